"""CLI commands: compare (being written)."""
