"""WOPI host and driver: Docbridge serves files to WOPI clients (Collabora Online, Microsoft
365 for the web, ONLYOFFICE in WOPI mode) and launches them from the app registry.

Pure protocol rules live in `locks`, `checkfileinfo`, `proofkeys`, `discovery`, `relative`
and `utf7`; `host` applies them to storage; `views` is the HTTP edge; `driver`, `client`
and `extension` wire the WOPI clients into the app registry.
"""
