"""releasegate.stats."""
