"""Pages for people: the file browser, login, public links; and the health endpoints."""
