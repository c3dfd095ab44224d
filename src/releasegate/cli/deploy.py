"""CLI commands: deploy (being written)."""
