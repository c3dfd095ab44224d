"""releasegate.store."""
