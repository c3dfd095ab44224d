"""Garbage-collector settings for a long-running serving process (the gateway, the API,
the dashboard, the gateway's record writer).

CPython's cyclic collector runs its youngest generation every 700 net allocations of
container objects. A gateway under load keeps thousands of such objects alive at any
moment (each request in flight holds its coroutine frames, dicts and buffers), so every
young collection walks that in-flight set again and promotes it, and the oldest
generation, which also holds everything built at start-up (the configuration, the
imported modules' objects, the prompt registry), is walked in full every few seconds.
Measured on the gateway benchmark (one worker, 256 connections): 11% of the process's
CPU time went to the collector, and each full collection stopped the event loop for
75-95 ms, which was most of the p99 latency the gateway added at 50 connections.

:func:`tune_for_serving` does two things, once the application is built and before it
serves:

- ``gc.freeze()`` moves every object alive at that point to a permanent generation that
  the collector never walks (objects built at start-up live as long as the process);
- the youngest generation's threshold is raised to :data:`YOUNG_THRESHOLD`, so that a
  request's objects are mostly freed by reference counting before any collection sees
  them. Cyclic garbage waits for at most that many net allocations before it is
  collected: a few megabytes at most.

References: the :mod:`gc` module's documentation (``freeze``, added in Python 3.7, and
``set_threshold``); Instagram Engineering, "Dismissing Python Garbage Collection at
Instagram" (2017), on the collector's cost in long-running web server processes.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "tune_for_serving"]

YOUNG_THRESHOLD = 50_000
"""Net allocations of container objects between two collections of the youngest
generation (CPython's default: 700)."""


def tune_for_serving() -> tuple[int, int, int]:
    """Freeze the objects alive now and raise the youngest generation's threshold.

    Call once per process, after the application is built and before it serves (in each
    worker process). The older generations keep their thresholds.

    Returns:
        The thresholds now in force, ``gc.get_threshold()``.
    """
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    return gc.get_threshold()
