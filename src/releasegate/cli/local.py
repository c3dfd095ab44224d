"""CLI commands: local (being written)."""
