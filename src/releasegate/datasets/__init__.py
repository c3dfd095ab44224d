"""Golden datasets: cases read from YAML, JSONL, JSON or CSV files, with their checks."""

from __future__ import annotations

from releasegate.datasets.case import Case
from releasegate.datasets.dataset import Dataset, load_dataset

__all__ = ["Case", "Dataset", "load_dataset"]
