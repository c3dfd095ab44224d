"""The deployment domain: records, the status machine, sticky bucketing, rollout plans.

Pure rules, no I/O. :func:`bucket` is the documented bucketing function; the services
that apply these rules (register, approve, canary, promote, rollback, routing) are in
:mod:`releasegate.control`.
"""

from __future__ import annotations

from releasegate.deploy.bucketing import bucket, in_canary, new_salt
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.plans import PRESETS, RolloutPlan, Stage, StageCheck, preset
from releasegate.deploy.status import Status, check_transition, is_allowed
from releasegate.deploy.tokens import Scope

__all__ = [
    "PRESETS",
    "ApiToken",
    "AuditEntry",
    "Deployment",
    "RolloutPlan",
    "Scope",
    "Stage",
    "StageCheck",
    "Status",
    "bucket",
    "check_transition",
    "in_canary",
    "is_allowed",
    "new_salt",
    "preset",
]
