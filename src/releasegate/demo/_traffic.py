"""Simulated users: real chat requests through the gateway, as an application sends them.

Each request is an OpenAI chat completion whose ``model`` is the feature name and whose
``user`` field is one of the traffic's user ids (the sticky unit key: a user keeps its
version while the rollout lasts). The gateway's response headers say which arm and
version served it; the users count them.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx

from releasegate.demo._files import Traffic

__all__ = ["UserStats", "Users"]


@dataclass
class UserStats:
    """What the users saw so far (read while they run: take :meth:`snapshot`)."""

    sent: int = 0
    failed: int = 0
    by_version: Counter[str] = field(default_factory=Counter)
    last_error: str = ""

    def snapshot(self) -> UserStats:
        return UserStats(self.sent, self.failed, Counter(self.by_version), self.last_error)


class Users:
    """``concurrency`` simulated users sending ``traffic`` to the gateway at ``base_url``.

    Args:
        base_url: The gateway's ``/v1`` URL.
        feature: The feature to call (sent as the ``model``).
        traffic: Reviews and the number of distinct user ids.
        concurrency: Requests in flight at once.
        seed: Seeds who sends what, so two runs send the same sequence.
    """

    def __init__(
        self, base_url: str, feature: str, traffic: Traffic, *, concurrency: int = 2, seed: int = 7
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.feature = feature
        self.traffic = traffic
        self.concurrency = concurrency
        self.stats = UserStats()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _next(self) -> tuple[str, str]:
        with self._lock:
            user = f"user-{self._random.randrange(self.traffic.users):04d}"
            return user, self._random.choice(self.traffic.reviews)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=120.0) as client:
            while not self._stop.is_set():
                user, review = self._next()
                body = {
                    "model": self.feature,
                    "user": user,
                    "messages": [{"role": "user", "content": review}],
                }
                try:
                    response = client.post("/chat/completions", json=body)
                    ok = response.status_code == 200
                    version = response.headers.get("x-releasegate-version", "?")
                    error = "" if ok else f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, version, error = False, "?", f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self.stats.sent += 1
                    if ok:
                        self.stats.by_version[version] += 1
                    else:
                        self.stats.failed += 1
                        self.stats.last_error = error
                if not ok:
                    self._stop.wait(0.5)  # a failing gateway is not hammered

    def start(self) -> None:
        for i in range(self.concurrency):
            thread = threading.Thread(target=self._run, name=f"demo-user-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def snapshot(self) -> UserStats:
        with self._lock:
            return self.stats.snapshot()

    def stop(self) -> None:
        """Stop sending; waits for the requests in flight."""
        self._stop.set()
        for thread in self._threads:
            thread.join(130.0)
        self._threads.clear()
