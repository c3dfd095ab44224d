"""Alembic migrations of the releasegate store (ordered, named; see docs/schema.md)."""
