"""The control-plane services: deployments, tokens and in-process routing.

Each service takes a unit of work (:mod:`releasegate.ports`) and does its work as one
audited transaction; the domain rules they apply live in :mod:`releasegate.deploy`.
"""

from __future__ import annotations

from releasegate.control.deployments import DeploymentService, FeatureState
from releasegate.control.router import Route, Router
from releasegate.control.tokens import TokenService

__all__ = ["DeploymentService", "FeatureState", "Route", "Router", "TokenService"]
