"""releasegate.scorers."""
