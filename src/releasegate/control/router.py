"""In-process routing for applications: (feature, unit key) -> version.

The router reads a feature's active and canary deployments from the store, keeps them for
a short time (``ttl_s``) and then decides every request locally: a SHA-256 of the unit key
and one integer comparison. Call :meth:`Router.invalidate` after a change you made
yourself to see it at once; other processes' changes are seen within ``ttl_s``.

When the store cannot be read (the database is down), a feature the router has read
before keeps being served from its last known configuration, re-tried at most every
``stale_retry_s`` seconds; only a feature never read fails.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

from releasegate.deploy.bucketing import key_bytes
from releasegate.deploy.model import Deployment
from releasegate.deploy.status import Status
from releasegate.errors import NotFound
from releasegate.ports import UnitOfWork

__all__ = ["Route", "Router"]

logger = logging.getLogger("releasegate.router")

Arm = Literal["incumbent", "canary", "fallback"]


@dataclass(frozen=True, slots=True)
class Route:
    """The version that serves one request.

    Attributes:
        feature: The feature asked for.
        arm: ``incumbent`` (the active version), ``canary`` or ``fallback``.
        model: Pinned model to call.
        version: Deployment version, None on the fallback.
        prompt_name: Prompt to render, None on the fallback.
        prompt_version: Its version.
        params: Generation parameters (read-only).
        deployment_id: Store id of the deployment, None on the fallback.
        shadow: A shadow candidate that should also answer (never served), if any.
    """

    feature: str
    arm: Arm
    model: str
    version: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    deployment_id: int | None = None
    shadow: Route | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "arm": self.arm,
            "version": self.version,
            "model": self.model,
            "prompt": f"{self.prompt_name}@{self.prompt_version}" if self.prompt_name else None,
            "params": dict(self.params),
            "deployment_id": self.deployment_id,
            "shadow": self.shadow.to_json() if self.shadow else None,
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    expires: float
    prefix: str  # "salt:" -- the unit key is appended
    threshold: int  # canary iff first 8 digest bytes (big-endian) < threshold
    canary: Route | None
    incumbent: Route | None
    missing: str  # error message when there is nothing to serve


def _route(dep: Deployment, arm: Arm, shadow: Route | None = None) -> Route:
    return Route(
        feature=dep.feature,
        arm=arm,
        model=dep.model,
        version=dep.version,
        prompt_name=dep.prompt_name,
        prompt_version=dep.prompt_version,
        params=MappingProxyType(dict(dep.params)),
        deployment_id=dep.id,
        shadow=shadow,
    )


def threshold_for(share: float) -> int:
    """Integer bound equivalent to ``bucket(...) < share`` on the raw 64-bit prefix.

    ``(n >> 11) * 2**-53 < share`` holds iff ``n < ceil(share * 2**53) << 11``, so the
    router compares the 64-bit integer directly and skips the float conversion.
    """
    return math.ceil(share * 2.0**53) << 11


class Router:
    """Resolve (feature, unit_key) to the deployment that serves it.

    Args:
        uow_factory: Returns a new (read) unit of work, e.g. ``lambda: db.uow(write=False)``.
        fallback_model: Model served, with a logged warning, when a feature has no
            active version. Without it such a request raises :class:`NotFound`.
        fallback_params: Generation parameters for the fallback model.
        ttl_s: How long a feature's configuration is reused before it is re-read.
        stale_retry_s: While the store is unreachable, how long a feature's last known
            configuration is served before the store is tried again.
        clock: Monotonic clock (injectable for tests).
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        fallback_model: str | None = None,
        fallback_params: Mapping[str, Any] | None = None,
        ttl_s: float = 5.0,
        stale_retry_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 0 or stale_retry_s < 0:
            raise ValueError("ttl_s and stale_retry_s must be >= 0")
        self._uow_factory = uow_factory
        self._fallback_model = fallback_model
        self._fallback_params = MappingProxyType(dict(fallback_params or {}))
        self._ttl = ttl_s
        self._stale_retry = stale_retry_s
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self.loads = 0
        """Number of store reads so far (cache misses)."""
        self.stale_serves = 0
        """Times a last known configuration was kept because the store could not be read."""

    def route(self, feature: str, unit_key: str) -> Route:
        """The route for one request; sticky for ``unit_key`` while the rollout lasts.

        ``unit_key`` may be any string, the empty one included; it is hashed exactly as
        :func:`~releasegate.deploy.bucketing.bucket` hashes it (lone surrogates count as
        U+FFFD).

        Raises:
            NotFound: the feature has no active version and no fallback is configured.
            Exception: whatever the store raised, when it cannot be read and the feature
                was never read before.
        """
        entry = self._cache.get(feature)
        if entry is None or entry.expires <= self._clock():
            entry = self._refresh(feature, entry)
        if entry.canary is not None:
            try:
                data = (entry.prefix + unit_key).encode()
            except UnicodeEncodeError:  # lone surrogates: the documented replacement rule
                data = key_bytes(entry.prefix + unit_key)
            if int.from_bytes(hashlib.sha256(data).digest()[:8], "big") < entry.threshold:
                return entry.canary
        if entry.incumbent is None:
            raise NotFound(entry.missing)
        return entry.incumbent

    def invalidate(self, feature: str | None = None) -> None:
        """Forget the cached configuration of ``feature`` (or of every feature)."""
        if feature is None:
            self._cache.clear()
        else:
            self._cache.pop(feature, None)

    def _fallback(self, feature: str) -> Route | None:
        if self._fallback_model is None:
            return None
        return Route(
            feature=feature,
            arm="fallback",
            model=self._fallback_model,
            params=self._fallback_params,
        )

    def _refresh(self, feature: str, stale: _Entry | None) -> _Entry:
        try:
            return self._load(feature)
        except Exception as exc:
            if stale is None:
                raise
            # The store is unreachable: routing stays as it was (sticky) until it is back.
            self.stale_serves += 1
            logger.warning(
                "cannot read the deployments of %r (%s); serving its last known routing",
                feature,
                exc,
            )
            kept = replace(stale, expires=self._clock() + self._stale_retry)
            self._cache[feature] = kept
            return kept

    def _load(self, feature: str) -> _Entry:
        uow = self._uow_factory()
        with uow:
            deps = uow.deployments.for_feature(feature)
        self.loads += 1
        active = next((d for d in deps if d.status is Status.ACTIVE), None)
        canary = next(
            (
                d
                for d in deps
                if d.status is Status.CANARY
                or (d.status is Status.PAUSED and d.paused_from is Status.CANARY)
            ),
            None,
        )
        shadow = _route(canary, "canary") if canary is not None and canary.shadow else None
        if active is not None:
            incumbent: Route | None = _route(active, "incumbent", shadow)
        else:
            incumbent = self._fallback(feature)
            if incumbent is not None:
                logger.warning(
                    "feature %r has no active version; serving fallback model %r",
                    feature,
                    self._fallback_model,
                )
        routed = canary is not None and not canary.shadow and canary.salt and canary.share > 0
        entry = _Entry(
            expires=self._clock() + self._ttl,
            prefix=f"{canary.salt}:" if routed and canary else "",
            threshold=threshold_for(canary.share) if routed and canary else 0,
            canary=_route(canary, "canary") if routed and canary else None,
            incumbent=incumbent,
            missing=(
                f"feature {feature!r} has no active version and no fallback model is configured"
                if deps
                else f"feature {feature!r} has no deployments and no fallback model is configured"
            ),
        )
        self._cache[feature] = entry
        return entry
