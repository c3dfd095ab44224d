"""releasegate.gateway."""
