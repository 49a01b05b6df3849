"""The app registry: providers and the mimetypes they serve, and the oCIS-compatible /app/* API."""
