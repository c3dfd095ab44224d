"""releasegate.evals."""
