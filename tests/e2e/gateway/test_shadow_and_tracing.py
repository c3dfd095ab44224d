"""Shadow mode and OTLP spans from a real gateway process (``releasegate serve
--gateway``) in front of a real mock upstream, exporting to a real OTLP/HTTP receiver."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.deploy.plans import preset
from releasegate.gateway.shadow import in_shadow_sample
from releasegate.ports import Interaction
from releasegate.store.database import open_database
from tests.e2e.gateway._process import serve
from tests.e2e.gateway.test_gateway_process import PROMPT, PROMPT2
from tests.support.gateway_upstream import GatewayUpstream
from tests.support.otlp_receiver import OtlpReceiver, ReceivedSpan

SAMPLE = 0.5


@dataclass
class Running:
    url: str
    upstream: GatewayUpstream
    receiver: OtlpReceiver
    db_url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stored(self, request_ids: list[str]) -> dict[str, Interaction]:
        db = open_database(self.db_url)
        try:
            with db.uow(write=False) as uow:
                return uow.interactions.by_request_ids(request_ids)
        finally:
            db.close()

    def wait_stored(self, request_ids: list[str]) -> dict[str, Interaction]:
        # Written in batches from a background thread: poll for them.
        found: dict[str, Interaction] = {}
        for _ in range(600):
            found = self.stored(request_ids)
            if len(found) == len(request_ids):
                break
            time.sleep(0.1)
        assert sorted(found) == sorted(request_ids)
        return found

    def metrics(self) -> str:
        return httpx.get(self.url + "/metrics").text


def until(check: Callable[[], bool]) -> None:
    for _ in range(600):
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def units(prefix: str, n: int, *, sampled: bool) -> list[str]:
    out = []
    i = 0
    while len(out) < n:
        unit = f"{prefix}-{i}"
        if in_shadow_sample("chat", "v2", unit, SAMPLE) is sampled:
            out.append(unit)
        i += 1
    return out


@contextmanager
def started(root: Path) -> Iterator[Running]:
    """A gateway process with chat v1 active and v2 in a shadow stage, its upstream and
    an OTLP receiver."""
    with GatewayUpstream.run_in_thread() as up, OtlpReceiver.run() as receiver:
        (root / "prompts").mkdir()
        (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
        (root / "prompts" / "chat2.yaml").write_text(yaml.safe_dump(PROMPT2))
        config = {
            "version": 1,
            "providers": {
                "main": {"type": "openai", "base_url": up.base_url, "model": "m-1"},
                "main2": {"type": "openai", "base_url": up.base_url, "model": "m-2"},
            },
            "prompts": "prompts/",
            "gateway": {
                "default_provider": "main",
                "shadow": {"sample": SAMPLE, "max_concurrent": 1000},
            },
            # The candidate's answers are scored; the incumbent's are not.
            "online": {
                "features": {
                    "chat": {
                        "checks": [{"type": "contains", "value": "!"}],
                        "sample": {"incumbent": 0.0, "canary": 1.0},
                    }
                }
            },
        }
        (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
        db_url = f"sqlite:///{root / 'rg.sqlite'}"
        db = open_database(db_url, create=True)
        db.upgrade()
        svc = DeploymentService(db.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
        svc.register("chat", "v2", prompt="chat2@1.0.0", model="m-2", actor="t")
        svc.approve("chat", "v2", actor="t")
        svc.canary("chat", "v2", actor="t", plan=preset("regulated"))  # shadow stage
        db.close()
        otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        unset = {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": None}
        try:
            with serve(root, db_url, env={**otel, **unset}) as served:
                yield Running(served.url, up, receiver, db_url, served.proc, served.log)
        finally:
            up.release_model("m-2")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with started(tmp_path_factory.mktemp("gw-shadow")) as running:
        yield running


def sdk(g: Running, unit: str, request_id: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=g.url + "/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"X-Releasegate-Unit": unit, "X-Request-Id": request_id},
    )


def test_the_user_is_answered_while_the_shadow_call_is_held(gateway: Running) -> None:
    unit = units("held", 1, sampled=True)[0]
    gateway.upstream.hold_model("m-2")
    try:
        stream = sdk(gateway, unit, "held-stream").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        plain = sdk(gateway, unit, "held-plain").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "yo"}]
        )
        # Both answers are complete, and both shadow calls are still held upstream.
        assert text == "Q: hi" and plain.choices[0].message.content == "Q: yo"
        until(lambda: gateway.upstream.waiting("m-2") == 2)
        assert gateway.wait_stored(["held-stream", "held-plain"])
        assert gateway.stored(["held-stream:shadow", "held-plain:shadow"]) == {}
    finally:
        gateway.upstream.release_model("m-2")
    shadows = gateway.wait_stored(["held-stream:shadow", "held-plain:shadow"])
    users = gateway.stored(["held-stream", "held-plain"])
    for rid, answer in (("held-stream", "hi!"), ("held-plain", "yo!")):
        shadow, user = shadows[f"{rid}:shadow"], users[rid]
        assert shadow.shadow and not user.shadow
        assert shadow.metadata and shadow.metadata["shadow_of"] == rid
        assert (shadow.version, shadow.arm, shadow.model) == ("v2", "canary", "m-2")
        assert (user.version, user.arm, user.model) == ("v1", "incumbent", "m-1")
        assert shadow.response == answer and shadow.error is None
        assert shadow.unit_key == unit
        assert shadow.score_due and not user.score_due  # the online scorer's share


def test_the_sampled_share_and_requests_in_equal_records_out(gateway: Running) -> None:
    metric = 'releasegate_gateway_shadow_calls_total{feature="chat",outcome="ok",version="v2"}'

    def shadow_calls() -> float:
        line = next((x for x in gateway.metrics().splitlines() if x.startswith(metric)), None)
        return float(line.split()[-1]) if line else 0.0

    before = shadow_calls()
    n = 200
    keys = [f"share-{i}" for i in range(n)]
    with httpx.Client(base_url=gateway.url) as client:
        for i, unit in enumerate(keys):
            resp = client.post(
                "/v1/chat/completions",
                json={"model": "chat", "messages": [{"role": "user", "content": str(i)}]},
                headers={"X-Releasegate-Unit": unit, "X-Request-Id": f"share-r{i}"},
            )
            assert resp.status_code == 200
    sampled = [i for i, u in enumerate(keys) if in_shadow_sample("chat", "v2", u, SAMPLE)]
    assert abs(len(sampled) / n - SAMPLE) < 0.15  # about 4 standard deviations
    users = gateway.wait_stored([f"share-r{i}" for i in range(n)])
    shadows = gateway.wait_stored([f"share-r{i}:shadow" for i in sampled])
    assert len(users) == n and not any(u.shadow for u in users.values())
    assert all(s.shadow and s.error is None for s in shadows.values())
    # ... and no others: the units out of the sample have no shadow record
    unsampled = [f"share-r{i}:shadow" for i in range(n) if i not in set(sampled)]
    until(lambda: shadow_calls() == before + len(sampled))
    assert gateway.stored(unsampled) == {}
    assert "releasegate_gateway_shadow_dropped_total{" not in gateway.metrics()


def _attr(name: str, value: object) -> Callable[[ReceivedSpan], bool]:
    return lambda s: s.attributes.get(name) == value


def test_spans_reach_an_otlp_receiver(gateway: Running) -> None:
    unit = units("span", 1, sampled=True)[0]
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client = openai.OpenAI(
        base_url=gateway.url + "/v1",
        api_key="unused",
        max_retries=0,
        default_headers={
            "X-Releasegate-Unit": unit,
            "X-Request-Id": "span-1",
            "traceparent": f"00-{trace_id}-{parent}-01",
        },
    )
    stream = client.chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "trace me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    span = gateway.receiver.wait_for(_attr("releasegate.request_id", "span-1"))[0]
    a = span.attributes
    assert span.name == "chat m-1" and span.kind == 3  # SPAN_KIND_CLIENT
    assert (span.trace_id, span.parent_span_id) == (trace_id, parent)
    assert span.resource["service.name"] == "releasegate-gateway"
    assert span.end_ns > span.start_ns
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "m-1" and a["gen_ai.response.model"] == "m-1"
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.request.stream"] is True and a["gen_ai.response.time_to_first_chunk"] > 0
    assert a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.prompt.name"] == "chat" and a["gen_ai.prompt.version"] == "1.0.0"
    assert a["server.address"] == "127.0.0.1" and a["server.port"] == gateway.upstream.port
    assert a["releasegate.feature"] == "chat" and a["releasegate.arm"] == "incumbent"
    assert a["releasegate.version.assigned"] == "v1" and a["releasegate.version.served"] == "v1"
    assert a["releasegate.fallback.depth"] == 0 and a["releasegate.shadow"] is False
    assert "error.type" not in a and span.status_code != 2
    shadow = gateway.receiver.wait_for(_attr("releasegate.request_id", "span-1:shadow"))[0]
    s = shadow.attributes
    assert shadow.name == "chat m-2" and s["releasegate.shadow"] is True
    assert s["releasegate.shadow_of"] == "span-1" and s["releasegate.version.assigned"] == "v2"
    assert s["gen_ai.request.model"] == "m-2" and s["releasegate.arm"] == "canary"
    # Both upstream calls carried a traceparent of the caller's trace whose parent is
    # the gateway's span of that call, a child of the request's (or shadow call's) span.
    for owner, model in ((span, "m-1"), (shadow, "m-2")):
        sent = [
            {k.lower(): v for k, v in r.headers.items()}
            for r in gateway.upstream.requests
            if isinstance(r.body, dict)
            and r.body.get("model") == model
            and "trace me" in str(r.body.get("messages"))
        ]
        assert len(sent) == 1
        version, sent_trace, sent_parent, flags = sent[0]["traceparent"].split("-")
        assert (version, sent_trace, flags) == ("00", trace_id, "01")
        (attempt,) = gateway.receiver.wait_for(lambda x, p=sent_parent: x.span_id == p)
        assert attempt.name == "POST" and attempt.parent_span_id == owner.span_id
        assert attempt.attributes["gen_ai.request.model"] == model
    assert shadow.trace_id == trace_id and shadow.parent_span_id == span.span_id


def test_a_failed_request_has_an_error_type(gateway: Running) -> None:
    unit = units("fail", 1, sampled=False)[0]
    gateway.upstream.fail_next(500)
    with pytest.raises(openai.APIStatusError):
        sdk(gateway, unit, "span-fail").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "x"}]
        )
    span = gateway.receiver.wait_for(_attr("releasegate.request_id", "span-fail"))[0]
    assert span.attributes["error.type"] == "502" and span.status_code == 2  # ERROR
    text = gateway.metrics()
    assert 'gen_ai_provider_name="openai"' in text and 'gen_ai_response_model="m-1"' in text
    assert 'error_type="502"' in text


def test_shutdown_cancels_a_held_shadow_call_cleanly(tmp_path: Path) -> None:
    with started(tmp_path) as g:
        unit = units("stop", 1, sampled=True)[0]
        g.upstream.hold_model("m-2")
        reply = sdk(g, unit, "stop-1").chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "bye"}]
        )
        assert reply.choices[0].message.content == "Q: bye"
        until(lambda: g.upstream.waiting("m-2") == 1)
        g.wait_stored(["stop-1"])
        g.proc.terminate()  # SIGTERM while the shadow call is held upstream
        code = g.proc.wait(timeout=30)
        assert code in (0, -15)  # uvicorn ends by re-raising the signal it handled
        log = g.log.read_text()
        assert "Traceback" not in log and "ERROR" not in log, log
        assert g.stored(["stop-1:shadow"]) == {}  # cancelled: counted, never recorded
