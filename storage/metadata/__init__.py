"""Metadata in SQL through SQLAlchemy Core: SQLite by default, PostgreSQL for several instances."""
