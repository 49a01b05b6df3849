"""Test infrastructure: real peers and servers the suite starts for itself."""
