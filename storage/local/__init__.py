"""The default byte backend: blobs on local disk under the data directory."""
