"""releasegate.cli."""
