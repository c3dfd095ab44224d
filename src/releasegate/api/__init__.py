"""releasegate.api."""
