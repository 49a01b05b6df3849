"""The WebDAV byte backend: blobs on any WebDAV server (nginx's dav module included)."""
