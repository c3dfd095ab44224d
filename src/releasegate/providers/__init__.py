"""releasegate.providers."""
