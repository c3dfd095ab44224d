"""The deployment control plane: status machine, sticky bucketing, rollout plans, services.

Public entry points: :func:`bucket` (the documented bucketing function), :class:`Router`
(in-process routing for applications) and :class:`DeploymentService` (register, approve,
canary, promote, rollback, pause, resume -- each one audited transaction).
"""

from __future__ import annotations

from releasegate.deploy.bucketing import bucket, in_canary, new_salt
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.plans import PRESETS, RolloutPlan, Stage, StageCheck, preset
from releasegate.deploy.ports import (
    AuditRepository,
    DeploymentRepository,
    TokenRepository,
    UnitOfWork,
)
from releasegate.deploy.router import Route, Router
from releasegate.deploy.service import DeploymentService, FeatureState
from releasegate.deploy.status import Status, check_transition, is_allowed
from releasegate.deploy.tokens import Scope, TokenService

__all__ = [
    "PRESETS",
    "ApiToken",
    "AuditEntry",
    "AuditRepository",
    "Deployment",
    "DeploymentRepository",
    "DeploymentService",
    "FeatureState",
    "RolloutPlan",
    "Route",
    "Router",
    "Scope",
    "Stage",
    "StageCheck",
    "Status",
    "TokenRepository",
    "TokenService",
    "UnitOfWork",
    "bucket",
    "check_transition",
    "in_canary",
    "is_allowed",
    "new_salt",
    "preset",
]
