"""Persistence: SQLAlchemy Core tables, migrations and queries over `databases`."""
