"""The job queue (huey): online scoring jobs and the periodic work of the worker.

:func:`open_huey` builds the huey instance from the configured location: a SQLite file
(the embedded default; no service to run) or a ``redis://`` URL. :class:`JobQueue`
declares the jobs on it, the same way in the processes that enqueue (the API recording
interactions) and in ``releasegate worker``, which runs them with :meth:`JobQueue.run`.
"""

from __future__ import annotations

from releasegate.queue.huey_factory import default_queue_file, open_huey
from releasegate.queue.jobs import Handlers, Intervals, JobQueue

__all__ = ["Handlers", "Intervals", "JobQueue", "default_queue_file", "open_huey"]
