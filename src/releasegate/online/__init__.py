"""releasegate.online."""
