"""The online half: recording production interactions and feedback, and the canary loop.

Services (:class:`RecordingService`, :class:`FeedbackService`) validate, redact and store
through the unit of work; :mod:`releasegate.online.client` is the buffered Python client
behind ``releasegate.record`` and ``releasegate.feedback``. See ``docs/online.md``.
The canary service (:mod:`releasegate.online.canary_service`, which needs the statistics
stack) and its alert webhooks (:mod:`releasegate.online.alerts`) are imported from their
modules, so that recording stays light.
"""

from __future__ import annotations

from releasegate.online.feedback import FeedbackOutcome, FeedbackService
from releasegate.online.recording import BatchResult, Conflict, RecordingService
from releasegate.online.records import FeedbackIn, Problem, RecordError, RecordIn, TooLarge
from releasegate.online.redaction import Redactor

__all__ = [
    "BatchResult",
    "Conflict",
    "FeedbackIn",
    "FeedbackOutcome",
    "FeedbackService",
    "Problem",
    "RecordError",
    "RecordIn",
    "RecordingService",
    "Redactor",
    "TooLarge",
]
