"""Docbridge's own JSON API under /api/v1: files, folders, versions and links."""
