"""CLI commands: judge (being written)."""
