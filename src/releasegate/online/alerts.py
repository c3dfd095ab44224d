"""Alert webhooks: tell people about rollbacks, holds and alerts of the canary analysis.

The body is JSON that Slack-compatible incoming webhooks accept (a ``text`` field, shown
as the message) and carries the whole decision under ``releasegate`` for any other
receiver. A webhook that fails is retried briefly and then logged; it never stops or
delays the decision itself, which is already stored and applied.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from releasegate.canary.records import StoredDecision
from releasegate.deploy.model import Deployment

__all__ = ["WebhookAlerts", "alert_body"]

log = logging.getLogger(__name__)

_VERB = {
    "rollback": "rolled back",
    "hold": "is held for a person",
    "alert": "raised an alert",
    "advance": "is ready for its next stage (needs approval)",
}


def alert_body(deployment: Deployment, decision: StoredDecision) -> dict[str, Any]:
    """The JSON body sent for ``decision`` (a ``text`` line plus the structured data)."""
    verb = _VERB.get(decision.action, decision.action)
    first = decision.reasons[0] if decision.reasons else ""
    text = f"releasegate: canary {deployment.feature}@{deployment.version} {verb}: {first}"
    return {
        "text": text,
        "releasegate": {
            "feature": deployment.feature,
            "version": deployment.version,
            "share": deployment.share,
            **decision.to_json(),
        },
    }


class _Retryable(Exception):
    pass


class WebhookAlerts:
    """POST decisions to one or more webhook URLs.

    Args:
        urls: Webhook URLs (``https://hooks.slack.com/...`` or any JSON receiver).
        timeout_s: Per-request timeout in seconds.
        attempts: Tries per URL on a connection error or a 5xx answer.
        transport: An httpx transport (tests pass one that records requests).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = 5.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.urls = list(urls)
        self.attempts = attempts
        self._client = httpx.Client(timeout=timeout_s, transport=transport)
        self.failures = 0

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def send(self, deployment: Deployment, decision: StoredDecision) -> None:
        """Send ``decision`` to every URL; failures are logged and counted, not raised."""
        body = alert_body(deployment, decision)
        for url in self.urls:
            try:
                self._post(url, body)
            except Exception as exc:
                self.failures += 1
                log.warning("alert webhook %s failed: %s", _safe(url), exc)

    def _post(self, url: str, body: dict[str, Any]) -> None:
        @retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        def once() -> None:
            try:
                resp = self._client.post(url, json=body)
            except httpx.TransportError as exc:
                raise _Retryable(str(exc)) from exc
            if resp.status_code >= 500:
                raise _Retryable(f"HTTP {resp.status_code}")
            resp.raise_for_status()

        once()


def _safe(url: str) -> str:
    # Webhook URLs carry their secret in the path: log only the host.
    return httpx.URL(url).host or "webhook"
