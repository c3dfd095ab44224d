"""CLI commands: changed (being written)."""
