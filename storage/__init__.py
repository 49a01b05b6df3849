"""Storage: the file/folder/version interface, its value types, and its backends."""
