"""The audit trail: one structured log line per change to a file or lock, and per conflict copy."""
