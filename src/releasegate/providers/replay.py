"""Answers replayed from a JSONL recording (type ``replay``).

Option ``file`` (relative to the project root). Each line is an object with ``output``
and either ``case_id`` (plus an optional ``repeat``; a line without one serves every
repeat of the case) or ``key``, the :func:`~releasegate.providers.recording.request_key`
of the rendered messages (and tools, when offered). Optional: ``usage``
({prompt_tokens, completion_tokens}), ``latency_ms``, ``model``, ``cost_usd``, and
``tool_calls`` (the answer's function calls, ``[{"id", "type": "function", "function":
{"name", "arguments": "<JSON text>"}}]``, served as recorded, malformed entries
included). ``RecordingProvider`` writes this format.

Lookup order: (case id, repeat, messages key), then (case id, any repeat, messages key),
so that every request of a case that makes several (the turns of a multi-turn case, the
tool rounds of a turn) gets the answer recorded for it; then (case id, repeat), then
(case id, any repeat), then the messages key. A request with no recording fails (not
retryable) with "no recording for case X".
The cache identity is a digest of the recorded answers (not the file's path), so a
re-recorded file is never served from stale cache entries.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from releasegate.errors import ConfigError, Issue, ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage
from releasegate.providers.pricing import PriceTable
from releasegate.providers.recording import request_key
from releasegate.providers.registry import ProviderSpec

__all__ = ["ReplayOptions", "ReplayProvider", "ReplayRecord"]


class ReplayOptions(BaseModel):
    """Options of the ``replay`` provider."""

    model_config = ConfigDict(extra="forbid")

    file: str


class _RecordedUsage(BaseModel):
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)


class ReplayRecord(BaseModel):
    """One recorded answer."""

    # Recordings may carry extra fields (written by newer versions); ignore them.
    model_config = ConfigDict(extra="ignore")

    output: str
    case_id: str | None = None
    repeat: int | None = Field(default=None, ge=0)
    key: str | None = None
    usage: _RecordedUsage | None = None
    latency_ms: float = Field(default=0.0, ge=0)
    model: str | None = None
    cost_usd: float | None = Field(default=None, ge=0)
    tool_calls: list[Any] | None = None

    @model_validator(mode="after")
    def _addressable(self) -> ReplayRecord:
        if self.case_id is None and self.key is None:
            raise ValueError("a recording needs a 'case_id' or a 'key'")
        return self


class ReplayProvider(ChatProvider):
    """Serves recorded answers; never calls a model."""

    type = "replay"
    cache_request_fields: frozenset[str] = frozenset({"case_id"})

    def __init__(
        self,
        records: list[ReplayRecord],
        *,
        name: str = "replay",
        source: str = "<recording>",
        model: str | None = None,
        pricing: PriceTable | None = None,
    ) -> None:
        self.name = name
        self.source = source
        self._model = model
        self._pricing = pricing or PriceTable()
        self._by_case: dict[tuple[str, int | None], ReplayRecord] = {}
        self._by_key: dict[str, ReplayRecord] = {}
        self._by_case_key: dict[tuple[str, int | None, str], ReplayRecord] = {}
        recorded = json.dumps(
            # tool_calls only when recorded: older recordings keep their digest
            [
                r.model_dump(mode="json", exclude=None if r.tool_calls else {"tool_calls"})
                for r in records
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        self._records_digest = hashlib.sha256(recorded.encode("utf-8")).hexdigest()
        for record in records:
            # Later lines win, so a re-recorded case replaces the earlier answer.
            if record.case_id is not None:
                self._by_case[(record.case_id, record.repeat)] = record
            if record.key is not None:
                self._by_key[record.key] = record
            if record.case_id is not None and record.key is not None:
                self._by_case_key[(record.case_id, record.repeat, record.key)] = record

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> ReplayProvider:
        """Load and validate the whole recording up front (errors name file and line)."""
        opts = spec.options(ReplayOptions)
        path = spec.resolve(opts.file)
        if not path.is_file():
            raise spec.error(f"recording {str(path)!r} does not exist", option="file")
        records: list[ReplayRecord] = []
        issues: list[Issue] = []
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(ReplayRecord.model_validate(json.loads(line)))
                except json.JSONDecodeError as exc:
                    issues.append(Issue(str(path), f"not valid JSON: {exc.msg}", line=lineno))
                except ValidationError as exc:
                    for err in exc.errors():
                        loc = ".".join(str(p) for p in err["loc"]) or None
                        issues.append(Issue(str(path), err["msg"], line=lineno, field=loc))
        if issues:
            raise ConfigError(issues)
        return cls(
            records,
            name=spec.name,
            source=str(path),
            model=spec.config.model,
            pricing=spec.pricing,
        )

    def __len__(self) -> int:
        return len(self._by_case) + len(self._by_key)

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """A digest of the recorded answers, and the model."""
        return {"type": self.type, "records": self._records_digest, "model": self._model}

    def _find(self, request: ChatRequest) -> ReplayRecord | None:
        key = (
            request_key(request.messages, request.tools, request.tool_choice)
            if self._by_key
            else None
        )
        if request.case_id is not None:
            if key is not None:
                for repeat in (request.repeat, None):
                    record = self._by_case_key.get((request.case_id, repeat, key))
                    if record is not None:
                        return record
            for repeat in (request.repeat, None):
                record = self._by_case.get((request.case_id, repeat))
                if record is not None:
                    return record
        return self._by_key.get(key) if key is not None else None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Return the recorded answer.

        Raises:
            ProviderError: (not retryable) when nothing was recorded for the request.
        """
        record = self._find(request)
        if record is None:
            what = (
                f"case {request.case_id!r} (repeat {request.repeat})"
                if request.case_id is not None
                else "these messages"
            )
            raise ProviderError(f"{self.name}: no recording for {what} in {self.source}")
        usage = (
            Usage(record.usage.prompt_tokens, record.usage.completion_tokens)
            if record.usage
            else Usage()
        )
        model = record.model or request.model or self._model
        cost = record.cost_usd
        if cost is None and record.usage is not None:
            cost = self._pricing.cost(model, usage)
        return ChatResponse(
            text=record.output,
            usage=usage,
            model=model,
            latency_ms=record.latency_ms,
            cost_usd=cost,
            tool_calls=tuple(record.tool_calls or ()),
        )
