"""releasegate.reports."""
