"""New scores bring the canary analysis forward, at most once per period across workers."""

from __future__ import annotations

from pathlib import Path

from releasegate.queue import Intervals, JobQueue, open_huey


def test_a_burst_of_scores_asks_for_one_analysis_per_period(tmp_path: Path) -> None:
    # two workers: two processes' queues on the same store
    one = JobQueue(open_huey(tmp_path / "q.db"), intervals=Intervals(after_scores=5.0))
    other = JobQueue(open_huey(tmp_path / "q.db"), intervals=Intervals(after_scores=5.0))
    t = 1_000_000.0
    assert one.after_scores(now=t) is True
    assert [one.after_scores(now=t + 1), other.after_scores(now=t + 2)] == [False, False]
    assert one.pending() == 1
    assert other.after_scores(now=t + 5.5) is True  # the next period
    assert one.after_scores(now=t + 6) is False
    assert one.pending() == 2
