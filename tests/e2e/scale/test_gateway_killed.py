"""Two gateway processes on the same PostgreSQL and Redis; one is SIGKILLed."""

from __future__ import annotations

import httpx

from tests.e2e.scale._stack import Scale, ask, gateway_process, stored_request_ids, wait_for

UNITS = [f"user-{i}" for i in range(30)]


def test_the_surviving_gateway_serves_every_unit_the_same_version(scale: Scale) -> None:
    """Gateways share no state but the store: both route every unit to the same version
    (sticky), and when one is killed the other keeps answering every request, each unit
    on the version it had, and records each of its requests."""
    config = scale.config("d", gateway={"redis_url": scale.redis.url})
    with (
        gateway_process(scale, config, "a") as a,
        gateway_process(scale, config, "b") as b,
        httpx.Client() as client,
    ):
        versions: dict[str, str | None] = {}
        for unit in UNITS:
            via_a, via_b = ask(client, a.url, unit), ask(client, b.url, unit)
            assert via_a.status == via_b.status == 200
            assert via_a.version == via_b.version, unit
            assert via_a.text == via_b.text == ("Q: hi" if via_a.version == "v1" else "hi!")
            versions[unit] = via_a.version
        assert set(versions.values()) == {"v1", "v2"}

        a.kill()
        after = [(unit, ask(client, b.url, unit)) for _ in range(2) for unit in UNITS]
        assert {x.status for _, x in after} == {200}
        assert all(x.version == versions[unit] for unit, x in after)
        assert b.proc.poll() is None
        ids = {x.request_id for _, x in after}
        wait_for("the surviving gateway's records", lambda: ids <= stored_request_ids(scale),
                 log=b.log)  # fmt: skip
