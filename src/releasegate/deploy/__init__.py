"""releasegate.deploy."""
