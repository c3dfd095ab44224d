"""The user's own application function as a target (type ``python``).

Configured as ``function: "package.module:function"`` (a dotted attribute after the colon
also works, e.g. ``"app.chat:Bot.answer"`` for a static method), with an optional
``path`` (a directory or a list of them, relative to the project root) put in front of
``sys.path`` so the module can be imported without installing it.

Calling convention. The function is called with keyword arguments, and only with those
its signature accepts (a ``**kwargs`` parameter accepts all):

* ``input`` (str): the case's input text.
* ``vars`` (dict): the case's template variables.
* ``messages`` (list of dicts): the rendered chat messages, OpenAI style.
* ``case_id`` (str or None): the case id.

It may be a plain function (run in a worker thread so it cannot stall the event loop; the
provider keeps its own pool of ``concurrency`` threads, since asyncio's default pool has
only a handful and would cap a blocking app below the configured concurrency) or an
``async def``. It returns either the answer as a ``str`` or a dict
``{"output": str, "usage": {"prompt_tokens": int, "completion_tokens": int},
"cost_usd": float}`` where ``usage`` and ``cost_usd`` are optional. An exception raised by
the function fails that case (not retried) with the exception's type and message.

Cache identity: the ``"module:function"`` name, the ``path`` option, the ``model`` and a
digest of the source file that defines the function, so editing that module starts fresh
answers (edits in other modules it imports are not seen: use ``--no-cache``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import inspect
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage
from releasegate.providers.identity import code_digest
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec

__all__ = ["ARGUMENTS", "PythonOptions", "PythonProvider", "load_function"]

ARGUMENTS = ("input", "vars", "messages", "case_id")
"""Keyword arguments the ``python`` provider can pass, in documentation order."""


class PythonOptions(BaseModel):
    """Options of the ``python`` provider."""

    model_config = ConfigDict(extra="forbid")

    function: str = Field(description='"module:function" to call')
    path: str | list[str] | None = Field(
        default=None, description="Directories added to sys.path, relative to the project"
    )


def load_function(spec: ProviderSpec, target: str) -> Callable[..., Any]:
    """Import ``"module:attr.attr"`` and return the callable.

    Raises:
        ConfigError: malformed target, module not importable, attribute missing or not
            callable.
    """
    module_name, sep, attr_path = target.partition(":")
    if not sep or not module_name or not attr_path:
        raise spec.error(
            f"function {target!r} must look like 'module:function' (e.g. 'myapp.chat:answer')",
            option="function",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise spec.error(
            f"cannot import module {module_name!r}: {exc} "
            "(set `path` to the directory that contains it)",
            option="function",
        ) from exc
    except Exception as exc:  # the user's module failed while importing
        raise spec.error(
            f"importing module {module_name!r} raised {type(exc).__name__}: {exc}",
            option="function",
        ) from exc
    obj: Any = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise spec.error(
                f"module {module_name!r} has no attribute {attr_path!r}", option="function"
            ) from exc
    if not callable(obj):
        raise spec.error(f"{target!r} is not callable", option="function")
    return obj  # type: ignore[no-any-return]


def _accepted(spec: ProviderSpec, func: Callable[..., Any], target: str) -> tuple[str, ...] | None:
    """Which convention arguments ``func`` takes; ``None`` means all (``**kwargs``)."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None  # builtins without a signature: give them everything
    params = sig.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    accepted = tuple(
        name
        for name in ARGUMENTS
        if name in sig.parameters
        and sig.parameters[name].kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and p.name not in accepted
    ]
    if missing:
        raise spec.error(
            f"function {target!r} requires argument(s) {', '.join(map(repr, missing))} that "
            f"releasegate does not pass (it passes: {', '.join(ARGUMENTS)})",
            option="function",
        )
    return accepted


def _is_async(func: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - async __call__ on an instance
    return call is not None and inspect.iscoroutinefunction(call)


def _last_user_text(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else str(content or "")
    return ""


class PythonProvider(ChatProvider):
    """Calls a Python function of the user's application.

    Args:
        func: the function.
        target: its ``"module:function"`` name, for messages and the cache identity.
        name: provider name.
        model: a model name used only to price ``usage`` the function reports.
        accepted: argument names to pass (``None`` = all).
        pricing: prices for cost when the function reports usage but not cost.
        path: the ``path`` option as configured (part of the cache identity).
    """

    type = "python"

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        target: str,
        name: str = "python",
        model: str | None = None,
        accepted: tuple[str, ...] | None = None,
        pricing: PriceTable | None = None,
        concurrency: int = 8,
        path: tuple[str, ...] = (),
    ) -> None:
        self._func = func
        self._target = target
        self.name = name
        self._model = model
        self._accepted = accepted
        self._async = _is_async(func)
        self._pricing = pricing or PriceTable()
        self._concurrency = concurrency
        self._executor: ThreadPoolExecutor | None = None
        self._identity: dict[str, Any] = {
            "type": self.type,
            "function": target,
            "path": list(path),
            "code": code_digest(func),
            "model": model,
        }
        # The case id and variables reach the answer only through arguments it takes.
        if accepted is not None:
            fields = {"case_id"} if "case_id" in accepted else set()
            if "vars" in accepted or "input" in accepted:
                fields.add("vars")
            self.cache_request_fields = frozenset(fields)

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> PythonProvider:
        """Import the configured function (after extending ``sys.path``) and check it."""
        opts = spec.options(PythonOptions)
        paths = [opts.path] if isinstance(opts.path, str) else list(opts.path or [])
        for raw in reversed(paths):
            directory = spec.resolve(raw)
            if not directory.is_dir():
                raise spec.error(f"path {str(directory)!r} is not a directory", option="path")
            if str(directory) not in sys.path:
                sys.path.insert(0, str(directory))
        func = load_function(spec, opts.function)
        return cls(
            func,
            target=opts.function,
            name=spec.name,
            model=spec.config.model,
            accepted=_accepted(spec, func, opts.function),
            pricing=spec.pricing,
            concurrency=spec.config.concurrency,
            path=tuple(paths),
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """The function's name, its code's digest, the ``path`` option and the model."""
        return self._identity

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        given = request.vars.get("input")
        values: dict[str, Any] = {
            "input": given if isinstance(given, str) else _last_user_text(request),
            "vars": dict(request.vars),
            "messages": [dict(m) for m in request.messages],
            "case_id": request.case_id,
        }
        if self._accepted is None:
            return values
        return {k: values[k] for k in self._accepted}

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Call the function once.

        Raises:
            ProviderError: (not retryable) if the function raises or returns something
                other than a str or a dict with a str ``output``.
        """
        kwargs = self._kwargs(request)
        start = time.perf_counter()
        try:
            if self._async:
                result = await self._func(**kwargs)
            else:
                result = await self._in_thread(kwargs)
                if inspect.isawaitable(result):  # a sync wrapper returning a coroutine
                    result = await result
        except Exception as exc:
            raise ProviderError(
                f"{self.name}: {self._target} raised {type(exc).__name__}: {exc}"
            ) from exc
        latency_ms = (time.perf_counter() - start) * 1000
        return self._response(result, latency_ms, request.model or self._model)

    async def _in_thread(self, kwargs: dict[str, Any]) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._concurrency, thread_name_prefix=f"releasegate-{self.name}"
            )
        # Copy the context like asyncio.to_thread does, so contextvars reach the function.
        call = functools.partial(contextvars.copy_context().run, self._func, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def aclose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def _response(self, result: Any, latency_ms: float, model: str | None) -> ChatResponse:
        if isinstance(result, str):
            return ChatResponse(text=result, model=model, latency_ms=latency_ms)
        if not isinstance(result, dict) or not isinstance(result.get("output"), str):
            raise ProviderError(
                f"{self.name}: {self._target} returned {type(result).__name__}; expected a str "
                "or a dict with a str 'output' (and optional 'usage', 'cost_usd')"
            )
        usage = Usage()
        raw_usage = result.get("usage")
        if raw_usage is not None:
            try:
                usage = Usage(
                    prompt_tokens=int(raw_usage.get("prompt_tokens", 0)),
                    completion_tokens=int(raw_usage.get("completion_tokens", 0)),
                )
            except (AttributeError, TypeError, ValueError) as exc:
                raise ProviderError(
                    f"{self.name}: {self._target} returned a bad 'usage' {raw_usage!r}; "
                    "expected {'prompt_tokens': int, 'completion_tokens': int}"
                ) from exc
        cost = result.get("cost_usd")
        if cost is not None and (
            isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0
        ):
            raise ProviderError(
                f"{self.name}: {self._target} returned a bad 'cost_usd' {cost!r}; "
                "expected a number >= 0"
            )
        cost_usd = float(cost) if cost is not None else None
        if cost_usd is None and raw_usage is not None:
            cost_usd = self._pricing.cost(model, usage)
        return ChatResponse(
            text=result["output"],
            usage=usage,
            model=model,
            latency_ms=latency_ms,
            cost_usd=cost_usd,
            raw=result,
        )
