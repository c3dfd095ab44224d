"""A scripted fake model (type ``scripted``) for tests, docs, the quickstart and benchmarks.

Answer selection, first match wins:

1. ``responses[case_id]``: an answer, or a list of answers indexed by the repeat number
   (the list wraps around when there are more repeats than answers). An answer is a
   text, or ``{output: text, tool_calls: [...]}`` for an answer with function calls.
2. ``rules``: the first ``{match: regex, output: text}`` (optionally with ``tool_calls``)
   whose regex is found in the last user message.
3. ``default``: ``"echo"`` (the last user message, the default) or any fixed text.

Then, for simulations, ``nondeterministic: {case_id: p}`` or ``pass_probability: p``
keeps that answer with probability ``p`` and otherwise answers ``wrong_output``. The draw
is a pure function of (``seed``, case id, repeat), so a run is reproducible and a case's
K repeats are independent draws.

``fail: {case_id: kind}`` makes calls fail: ``"timeout"``, ``"connection"``, ``"error"``
(not retryable) or an HTTP status such as ``"429"``/``"500"``/``"401"``. The long form
``{error: "429", times: 2, retry_after: 1.5}`` fails only the first ``times`` attempts of
each (case, repeat), so retry paths can be exercised. ``latency_ms`` adds a simulated
delay (``asyncio.sleep``). Usage is deterministic: about four characters per token.

A ``tool_calls`` entry in the short form ``{name: get_weather, arguments: {city: Paris}}``
becomes an OpenAI tool call ``{id: call_<n>, type: function, function: {name, arguments:
"<JSON text>"}}`` (arguments given as a mapping are serialised, a string is kept as
written); any other entry is answered exactly as written, so malformed calls (no
``function``, arguments that are not a string) can be scripted too. An answer or rule
with ``tool_calls`` may say ``then:`` (a text or another answer): what the model
answers once the results came back, i.e. when the request has, after its last user
message, one assistant message with tool calls per ``then`` followed. Without ``then``
the same answer is given again, so a model that keeps calling a tool is scriptable.

The cache identity is the whole script but ``latency_ms`` (a delay never changes an
answer) plus the model; answers depend on the case id, so it is part of the key too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import time
from collections import Counter, deque
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Message, Usage
from releasegate.providers._errors import status_error
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec

__all__ = ["Answer", "FailSpec", "Rule", "ScriptedOptions", "ScriptedProvider", "estimate_tokens"]

_KINDS = ("timeout", "connection", "error")


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: one token per four characters, at least one."""
    return max(1, math.ceil(len(text) / 4))


def _wire_call(index: int, entry: Any) -> Any:
    """A scripted tool call in the OpenAI wire shape (see the module docstring)."""
    if not isinstance(entry, dict) or "function" in entry or "name" not in entry:
        return entry
    args = entry.get("arguments", {})
    text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
    return {
        "id": entry.get("id", f"call_{index}"),
        "type": "function",
        "function": {"name": entry["name"], "arguments": text},
    }


class Answer(BaseModel):
    """A scripted answer with function calls: ``{output: text, tool_calls: [...]}``;
    ``then`` is the answer once the tool results came back (see :func:`_after_tools`)."""

    model_config = ConfigDict(extra="forbid")

    output: str = ""
    tool_calls: list[Any] = Field(default_factory=list)
    then: str | Answer | None = None

    @field_validator("tool_calls")
    @classmethod
    def _wire(cls, v: list[Any]) -> list[Any]:
        return [_wire_call(i, entry) for i, entry in enumerate(v)]


class Rule(BaseModel):
    """Answer ``output`` (and ``tool_calls``) when ``match`` (a regex) is found in the
    last user message."""

    model_config = ConfigDict(extra="forbid")

    match: str
    output: str = ""
    tool_calls: list[Any] = Field(default_factory=list)
    then: str | Answer | None = None

    @field_validator("tool_calls")
    @classmethod
    def _wire(cls, v: list[Any]) -> list[Any]:
        return [_wire_call(i, entry) for i, entry in enumerate(v)]

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid regex {v!r}: {exc}") from exc
        return v


class FailSpec(BaseModel):
    """How a case's calls fail."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="timeout, connection, error, or an HTTP status like 429")
    times: int | None = Field(
        default=None, ge=1, description="Fail only the first N attempts (default: always)"
    )
    retry_after: float | None = Field(default=None, ge=0)

    @field_validator("error", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        kind = str(v).strip().lower()
        if kind in _KINDS or (kind.isdigit() and 400 <= int(kind) <= 599):
            return kind
        raise ValueError(
            f"unknown failure kind {v!r} (use timeout, connection, error or a status 400-599)"
        )


class ScriptedOptions(BaseModel):
    """Options of the ``scripted`` provider."""

    model_config = ConfigDict(extra="forbid")

    responses: dict[str, str | Answer | list[str | Answer]] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    default: str = "echo"
    latency_ms: float = Field(default=0.0, ge=0)
    fail: dict[str, FailSpec] = Field(default_factory=dict)
    nondeterministic: dict[str, float] = Field(default_factory=dict)
    pass_probability: float | None = Field(default=None, ge=0, le=1)
    wrong_output: str = "I am not sure."
    seed: int = 0

    @field_validator("responses")
    @classmethod
    def _no_empty_lists(
        cls, v: dict[str, str | Answer | list[str | Answer]]
    ) -> dict[str, str | Answer | list[str | Answer]]:
        for case_id, texts in v.items():
            if isinstance(texts, list) and not texts:
                raise ValueError(f"responses for case {case_id!r} is an empty list")
        return v

    @field_validator("fail", mode="before")
    @classmethod
    def _short_fail_form(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: {"error": x} if isinstance(x, str | int) else x for k, x in v.items()}
        return v

    @field_validator("nondeterministic")
    @classmethod
    def _probabilities(cls, v: dict[str, float]) -> dict[str, float]:
        for case_id, p in v.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probability for case {case_id!r} must be in [0, 1], got {p}")
        return v


def _last_user(messages: tuple[Message, ...]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _tool_rounds(messages: tuple[Message, ...]) -> int:
    """Assistant messages with tool calls after the last user message: the tool rounds
    already answered in this turn."""
    n = 0
    for message in reversed(messages):
        if message.get("role") == "user":
            break
        if message.get("role") == "assistant" and message.get("tool_calls"):
            n += 1
    return n


def _after_tools(found: str | Answer | Rule, rounds: int) -> str | Answer | Rule:
    """The answer after ``rounds`` tool rounds: ``then`` followed that many times; an
    answer without ``then`` answers again (so a model that keeps calling a tool can be
    scripted)."""
    for _ in range(rounds):
        nxt = found.then if not isinstance(found, str) else None
        if nxt is None:
            break
        found = nxt
    return found


def _uniform(seed: int, case_id: str | None, repeat: int) -> float:
    # sha256 rather than hash(): str hashes are salted per process, draws must not be.
    digest = hashlib.sha256(f"{seed}\x00{case_id}\x00{repeat}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).random()


class ScriptedProvider(ChatProvider):
    """A deterministic fake chat model driven by :class:`ScriptedOptions`."""

    type = "scripted"
    cache_request_fields: frozenset[str] = frozenset({"case_id"})

    def __init__(
        self,
        options: ScriptedOptions | None = None,
        *,
        name: str = "scripted",
        model: str | None = "scripted",
        pricing: PriceTable | None = None,
    ) -> None:
        self.options = options or ScriptedOptions()
        self.name = name
        self._model = model
        self._pricing = pricing or PriceTable()
        self._rules = [(re.compile(r.match), r) for r in self.options.rules]
        self._fail = self.options.fail
        self._attempts: Counter[tuple[str | None, int]] = Counter()
        #: the most recent requests, in order (tests inspect them); bounded so that long
        #: simulations do not grow without limit
        self.calls: deque[ChatRequest] = deque(maxlen=10_000)
        #: requests received in total
        self.call_count = 0

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> ScriptedProvider:
        return cls(
            spec.options(ScriptedOptions),
            name=spec.name,
            model=spec.config.model or "scripted",
            pricing=spec.pricing,
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """A digest of the script (all options but ``latency_ms``) and the model."""
        script = self.options.model_dump(mode="json", exclude={"latency_ms"})
        text = json.dumps(script, sort_keys=True, separators=(",", ":"))
        return {
            "type": self.type,
            "script": hashlib.sha256(text.encode()).hexdigest(),
            "model": self._model,
        }

    def answer(self, request: ChatRequest) -> str:
        """The text this provider answers to ``request`` (no failure, no delay)."""
        return self.answer_with_calls(request)[0]

    def answer_with_calls(self, request: ChatRequest) -> tuple[str, tuple[Any, ...]]:
        """The text and tool calls this provider answers to ``request``."""
        opts = self.options
        scripted = opts.responses.get(request.case_id) if request.case_id is not None else None
        found: str | Answer | Rule | None = (
            scripted[request.repeat % len(scripted)] if isinstance(scripted, list) else scripted
        )
        last = _last_user(request.messages)
        if found is None:
            found = next((rule for rx, rule in self._rules if rx.search(last)), None)
        text: str
        calls: tuple[Any, ...] = ()
        if found is not None:
            found = _after_tools(found, _tool_rounds(request.messages))
        if found is None:
            text = last if opts.default == "echo" else opts.default
        elif isinstance(found, str):
            text = found
        else:
            text, calls = found.output, tuple(found.tool_calls)
        p = opts.nondeterministic.get(request.case_id or "", opts.pass_probability)
        if p is not None and _uniform(opts.seed, request.case_id, request.repeat) >= p:
            return opts.wrong_output, ()
        return text, calls

    def _maybe_fail(self, request: ChatRequest) -> None:
        spec = self._fail.get(request.case_id or "")
        if spec is None:
            return
        key = (request.case_id, request.repeat)
        self._attempts[key] += 1
        if spec.times is not None and self._attempts[key] > spec.times:
            return
        label = f"{self.name}: scripted failure for case {request.case_id!r}"
        if spec.error == "timeout":
            raise ProviderError(f"{label}: timed out", retryable=True, retry_after=spec.retry_after)
        if spec.error == "connection":
            raise ProviderError(
                f"{label}: connection refused", retryable=True, retry_after=spec.retry_after
            )
        if spec.error == "error":
            raise ProviderError(f"{label}: error")
        headers = {"Retry-After": f"{spec.retry_after:g}"} if spec.retry_after is not None else None
        detail = f"scripted failure for case {request.case_id!r}"
        raise status_error(int(spec.error), detail, provider=self.name, headers=headers)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Answer per the script, after ``latency_ms``; or fail as scripted."""
        self.calls.append(request)
        self.call_count += 1
        start = time.perf_counter()
        if self.options.latency_ms:
            await asyncio.sleep(self.options.latency_ms / 1000)
        self._maybe_fail(request)
        text, calls = self.answer_with_calls(request)
        prompt = "".join(str(m.get("content") or "") for m in request.messages)
        spoken = text + (json.dumps(list(calls), default=str) if calls else "")
        usage = Usage(estimate_tokens(prompt), estimate_tokens(spoken))
        model = request.model or self._model
        return ChatResponse(
            text=text,
            usage=usage,
            model=model,
            latency_ms=(time.perf_counter() - start) * 1000,
            cost_usd=self._pricing.cost(model, usage),
            tool_calls=calls,
        )
