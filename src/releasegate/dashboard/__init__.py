"""releasegate.dashboard."""
