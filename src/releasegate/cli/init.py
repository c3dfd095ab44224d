"""CLI commands: init (being written)."""
