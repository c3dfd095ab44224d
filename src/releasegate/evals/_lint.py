"""Model-pinning lint: flag floating model aliases.

A hosted alias such as ``gpt-4o`` or ``claude-3-5-sonnet-latest`` is moved by its
provider to newer snapshots without notice, so an eval that passed yesterday says
nothing about what serves today. The rule, applied in this order:

1. A name whose last part is ``latest`` (``-latest``, ``:latest``, ``@latest``) is
   floating, whatever else it contains.
2. A local file (a path, or a ``.gguf``/``.bin``/``.safetensors``/``.onnx`` file) is
   pinned: its content is what it is.
3. A name that carries a *pin* is pinned. Pins are: a date (``YYYY-MM-DD``,
   ``YYYYMMDD``, ``MM-YYYY``, a trailing ``-MM-DD``, a 4-digit ``MMDD`` or ``YYMM``
   snapshot segment as in ``gpt-4-0613`` or ``mistral-large-2411``), an explicit
   revision (``-v2``, ``-v1:0``, ``-002``), a content digest (``@sha256:...``), or a
   quantization tag naming one build artifact (``q8_0``, ``q4_k_m``, ``fp16``, ``awq``).
4. Otherwise a name of a known hosted family whose provider publishes floating aliases
   (OpenAI ``gpt-``/``o1``/``o3``/``chatgpt-``, Anthropic ``claude-``, Google
   ``gemini-``, Mistral, Cohere ``command``, xAI ``grok-``, DeepSeek) is floating.
5. Anything else (a self-hosted served name, an embedding model without snapshots) is
   not flagged: nothing in the name says it floats.

Provider prefixes (``openai/``, ``models/``, Bedrock's ``us.anthropic.``) are ignored.
"""

from __future__ import annotations

import re

__all__ = ["is_pinned", "lint_model_name"]

_LATEST = re.compile(r"(?:^|[-_:@./])latest$")
_LOCAL_SUFFIX = re.compile(r"\.(?:gguf|ggml|bin|safetensors|onnx|pt|pth)$")

_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_PINS = [
    re.compile(rf"(?<!\d)(?:19|20)\d\d-?{_MONTH}-?{_DAY}(?!\d)"),  # 2024-11-20, 20241022
    re.compile(rf"(?<!\d){_MONTH}-(?:19|20)\d\d(?!\d)"),  # command-r-08-2024
    re.compile(rf"-{_MONTH}-{_DAY}$"),  # gemini-2.5-pro-preview-05-06
    re.compile(rf"(?:^|[-_@]){_MONTH}{_DAY}(?:$|[-_:])"),  # gpt-4-0613, gpt-4-1106-preview
    re.compile(rf"(?:^|[-_@])(?:2[3-9]|3\d){_MONTH}(?:$|[-_:])"),  # mistral-large-2411
    re.compile(r"(?:^|[-_@])v\d+(?:[.:]\d+)*(?:$|[-_:])"),  # -v2, -v1:0
    re.compile(r"(?:^|[-_@])\d{3}$"),  # gemini-1.5-pro-002, text-embedding-ada-002
    re.compile(r"@sha256:[0-9a-f]{12,}"),  # container/ollama digest
    re.compile(
        r"(?:^|[-_.:])(?:i?q[2-8](?:_[0-9a-z]+)*|f16|fp16|bf16|f32|fp8|int[48]|awq|gptq)"
        r"(?:$|[-_.])"
    ),
]

_FAMILIES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:gpt-|chatgpt-|o[1-9](?:$|-)|text-davinci)"), "gpt-4o-2024-11-20"),
    (re.compile(r"^claude-"), "claude-3-5-sonnet-20241022"),
    (re.compile(r"^gemini-"), "gemini-1.5-pro-002"),
    (
        re.compile(r"^(?:mistral-|mixtral-|codestral|ministral-|pixtral-|open-mistral)"),
        "mistral-large-2411",
    ),
    (re.compile(r"^command(?:-|$)"), "command-r-08-2024"),
    (re.compile(r"^grok-"), "grok-2-1212"),
    (re.compile(r"^deepseek-(?:chat|reasoner|coder)$"), "a dated DeepSeek snapshot"),
]

_VENDOR_PREFIX = re.compile(
    r"^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|cohere|amazon|ai21|openai|google)\."
)


def _is_local_path(model: str) -> bool:
    return (
        model.startswith(("/", "./", "../", "~", "\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", model))
        or bool(_LOCAL_SUFFIX.search(model.lower()))
    )


def _base_name(model: str) -> str:
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _VENDOR_PREFIX.sub("", name)


def is_pinned(model: str) -> bool:
    """Whether the name itself pins a fixed model (rules 2 and 3 of the module doc)."""
    if _is_local_path(model):
        return True
    name = _base_name(model)
    if _LATEST.search(name):
        return False
    return any(p.search(name) for p in _PINS)


def lint_model_name(model: str) -> str | None:
    """A message when ``model`` is a floating alias, else ``None``.

    Examples:
        >>> lint_model_name("gpt-4o-2024-11-20") is None
        True
        >>> lint_model_name("gpt-4o") is not None
        True
    """
    name = _base_name(model)
    if not name:
        return None
    if _LATEST.search(name):
        return (
            f"model {model!r} is a floating alias ('latest' moves to new versions without "
            "notice); pin a dated or versioned snapshot"
        )
    if is_pinned(model):
        return None
    for pattern, example in _FAMILIES:
        if pattern.search(name):
            return (
                f"model {model!r} is a floating alias (the provider repoints it to newer "
                f"snapshots); pin a dated snapshot such as {example!r}"
            )
    return None
