"""Prompts and JSON schemas of the RAG checks (``faithfulness``, ``answer-relevancy``,
``context-precision``, ``context-recall``).

Every piece of text that did not come from the suite author (question, answer, context
chunks, reference, claims a judge extracted) is fenced as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from releasegate.llm import Message
from releasegate.scorers._judge_delim import fence
from releasegate.scorers.judge import DATA_RULE

__all__ = [
    "ATTRIBUTION_SCHEMA",
    "CLAIMS_SCHEMA",
    "QUESTIONS_SCHEMA",
    "RELEVANCE_SCHEMA",
    "VERDICTS_SCHEMA",
    "attribution_messages",
    "claims_messages",
    "questions_messages",
    "relevance_messages",
    "verify_messages",
]

_BASE = "You are a careful fact-checking assistant for evaluating AI answers. " + DATA_RULE


def _obj(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


CLAIMS_SCHEMA = _obj({"claims": {"type": "array", "items": {"type": "string"}}})
VERDICTS_SCHEMA = _obj(
    {
        "verdicts": {
            "type": "array",
            "items": _obj(
                {
                    "claim": {"type": "integer"},
                    "reason": {"type": "string"},
                    "supported": {"type": "boolean"},
                }
            ),
        }
    }
)
RELEVANCE_SCHEMA = _obj({"reason": {"type": "string"}, "relevant": {"type": "boolean"}})
ATTRIBUTION_SCHEMA = _obj(
    {
        "statements": {
            "type": "array",
            "items": _obj(
                {
                    "statement": {"type": "string"},
                    "reason": {"type": "string"},
                    "attributed": {"type": "boolean"},
                }
            ),
        }
    }
)
QUESTIONS_SCHEMA = _obj(
    {
        "noncommittal": {"type": "boolean"},
        "questions": {"type": "array", "items": {"type": "string"}},
    }
)


def _context_blocks(chunks: Sequence[str]) -> str:
    return "\n".join(fence(chunk, f"CONTEXT {i}") for i, chunk in enumerate(chunks, 1))


def _msgs(system: str, user: list[str]) -> list[Message]:
    return [
        {"role": "system", "content": f"{_BASE} {system}"},
        {"role": "user", "content": "\n".join(user)},
    ]


def claims_messages(question: str, answer: str) -> list[Message]:
    """Ask for the factual claims an answer makes."""
    return _msgs(
        "Break the ANSWER into short, self-contained factual claims: resolve pronouns, one "
        "fact per claim, keep numbers and names exact. Skip greetings, opinions, questions "
        'and refusals. Reply with JSON only: {"claims": ["...", ...]}, an empty list when '
        "the answer makes no factual claim.",
        ["QUESTION:", fence(question, "QUESTION"), "", "ANSWER:", fence(answer, "ANSWER")],
    )


def verify_messages(claims: Sequence[str], chunks: Sequence[str]) -> list[Message]:
    """Ask, for each numbered claim, whether the context supports it."""
    numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(claims, 1))
    return _msgs(
        "For every numbered CLAIM decide whether the CONTEXT supports it: supported means "
        "it can be directly inferred from the context; anything not stated there, or "
        'contradicted, is not supported. Reply with JSON only: {"verdicts": [{"claim": '
        '<number>, "reason": "<short>", "supported": true|false}, ...]}, one entry per '
        "claim, in order.",
        ["CONTEXT:", _context_blocks(chunks), "", "CLAIMS:", fence(numbered, "CLAIMS")],
    )


def relevance_messages(question: str, target: str, target_label: str, chunk: str) -> list[Message]:
    """Ask whether one retrieved chunk was useful for the given answer."""
    return _msgs(
        f"Decide whether the CONTEXT CHUNK was useful to arrive at the {target_label} for "
        'the QUESTION. Reply with JSON only: {"reason": "<short>", "relevant": true|false}.',
        [
            "QUESTION:",
            fence(question, "QUESTION"),
            "",
            f"{target_label}:",
            fence(target, target_label),
            "",
            "CONTEXT CHUNK:",
            fence(chunk, "CHUNK"),
        ],
    )


def attribution_messages(question: str, reference: str, chunks: Sequence[str]) -> list[Message]:
    """Ask which statements of the reference answer the context supports."""
    return _msgs(
        "Split the REFERENCE answer into its statements (one per sentence or fact). For "
        "each, decide whether it can be attributed to the CONTEXT. Reply with JSON only: "
        '{"statements": [{"statement": "...", "reason": "<short>", "attributed": '
        "true|false}, ...]}.",
        [
            "QUESTION:",
            fence(question, "QUESTION"),
            "",
            "CONTEXT:",
            _context_blocks(chunks),
            "",
            "REFERENCE:",
            fence(reference, "REFERENCE"),
        ],
    )


def questions_messages(answer: str, n: int) -> list[Message]:
    """Ask for ``n`` questions the answer responds to, and whether it is non-committal."""
    return _msgs(
        f"Write {n} different questions that the ANSWER is a direct response to. Also say "
        "whether the answer is non-committal: evasive, vague, or saying it does not know. "
        'Reply with JSON only: {"noncommittal": true|false, "questions": ["...", ...]}.',
        ["ANSWER:", fence(answer, "ANSWER")],
    )
