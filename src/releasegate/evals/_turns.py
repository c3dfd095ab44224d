"""Dynamic multi-turn cases: user turns sent one after another, the model's own replies
carried forward.

Each turn's request is assembled like a single-turn case
(:func:`~releasegate.evals._render.render_case`), with the conversation so far as its
history: the case's ``messages``, then every earlier turn's user message and the reply
the model gave. A turn's checks grade that turn's reply only; the case's own ``assert``
checks grade the whole conversation (their output is every reply, their input the
transcript). The case score is the mean or the minimum (``turn_aggregate``) of the
turn scores and the case-level score; a turn not sent after a stop scores 0. The case
passes when every part passes and no turn errored or was skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from releasegate.datasets.case import Case
from releasegate.evals._render import render_case
from releasegate.evals._scoring import CaseScorer
from releasegate.evals._tool_rounds import Send, run_exchange
from releasegate.llm import ChatRequest, ChatResponse, Usage
from releasegate.prompts import Prompt
from releasegate.results.report import CaseResult, TurnResult

__all__ = ["run_turns"]


def _line(message: Any) -> str:
    if not isinstance(message, dict):
        return str(message)
    calls = message.get("tool_calls") or ()
    names = [c.get("function", {}).get("name") for c in calls if isinstance(c, dict)]
    text = message.get("content") or ""
    if names:
        text = f"{text} [calls: {', '.join(str(n) for n in names)}]".strip()
    return f"{message.get('role')}: {text}"


def _aggregate(values: Sequence[float], how: str) -> float | None:
    if not values:
        return None
    return min(values) if how == "min" else math.fsum(values) / len(values)


async def run_turns(
    case: Case,
    repeat: int,
    *,
    prompt: Prompt | None,
    scorer: CaseScorer,
    make_request: Callable[[Case, list[dict[str, Any]]], ChatRequest],
    send: Send,
) -> CaseResult:
    """Run a multi-turn case and score it.

    Args:
        case: a case with ``turns``.
        repeat: the repeat number.
        prompt: the suite's prompt (``None``: the turn text is the user message).
        scorer: builds and runs the checks.
        make_request: the request for one turn's messages (model, params, tools...).
        send: calls the target.

    Returns:
        One result: per-turn results in ``turns``, every check (turn checks labelled
        ``turns[i].assert[j]``), the whole conversation in ``messages``.

    Raises:
        PromptError: a turn's template fails to render.
    """
    history = case.history()
    turn_results: list[TurnResult] = []
    responses: list[ChatResponse] = []
    #: every turn's answer, a failed turn's tool rounds included (what the calls cost)
    spent: list[ChatResponse] = []
    messages: list[Any] = []
    stopped = False
    unanswered: tuple[str, ...] = ()
    for index, turn in enumerate(case.turn_cases()):
        if unanswered:
            turn_results.append(
                TurnResult(
                    index=index,
                    input=turn.input,
                    error=(
                        f"case {case.id!r} turn {index} not sent: the reply of turn "
                        f"{index - 1} called {', '.join(unanswered)} and tool_results "
                        "gives no result for it (a conversation cannot go on past an "
                        "unanswered tool call)"
                    ),
                )
            )
            stopped = True
            break
        rendered = render_case(prompt, turn, history=history)
        request = make_request(turn, rendered)
        exchange = await run_exchange(
            request,
            send,
            results=turn.tool_results,
            max_rounds=case.max_tool_rounds,
            where=f"case {case.id!r} turn {index}",
        )
        answer = exchange.answer()
        if answer is not None:
            spent.append(answer)
        if exchange.error is not None or answer is None:
            messages = exchange.transcript()
            turn_results.append(
                TurnResult(
                    index=index,
                    input=turn.input,
                    messages=messages[len(rendered) :] or None,
                    error=exchange.error,
                    output=answer.text if answer is not None else None,
                    tool_calls=(list(answer.tool_calls) or None) if answer is not None else None,
                )
            )
            stopped = True
            break
        responses.append(answer)
        scored = await scorer.score(turn, repeat, answer, tools=request.tools or ())
        checks = [
            c.model_copy(update={"label": f"turns[{index}].{c.label}"}) for c in scored.checks
        ]
        has_checks = bool(turn.asserts)
        turn_results.append(
            TurnResult(
                index=index,
                input=turn.input,
                output=answer.text,
                score=scored.score,
                passed=scored.passed or not has_checks,
                checks=checks,
                tool_calls=scored.tool_calls,
                messages=exchange.transcript()[len(rendered) :] or None,
            )
        )
        messages = exchange.transcript()
        # The next turn's history: this one's, then everything from the user turn on
        # (the system and few-shot turns are added again by the assembly).
        history = [*history, *messages[len(rendered) - 1 :]]
        unanswered = exchange.unanswered
        if has_checks and not scored.passed and case.on_turn_failure == "stop":
            stopped = True
            break
    return await _finish(case, repeat, scorer, turn_results, (responses, spent), messages, stopped)


async def _finish(
    case: Case,
    repeat: int,
    scorer: CaseScorer,
    turns: list[TurnResult],
    answers: tuple[list[ChatResponse], list[ChatResponse]],
    messages: list[Any],
    stopped: bool,
) -> CaseResult:
    # The answers of the turns that were graded, and every answer (for usage and cost).
    responses, spent = answers
    n_turns = len(case.turns or ())
    # An errored turn scores 0, a turn without checks adds nothing, a turn never sent
    # (after a stop or an error) scores 0.
    values = [t.score if t.error is None else 0.0 for t in turns]
    parts_f = [v for v in values if v is not None]
    parts_f += [0.0] * (n_turns - len(turns))
    passed = not stopped and all(t.passed and t.error is None for t in turns)
    checks = [c for t in turns for c in t.checks]
    if case.asserts:
        whole = ChatResponse(
            text="\n\n".join(r.text for r in responses),
            usage=Usage(),
            tool_calls=tuple(c for r in responses for c in r.tool_calls),
        )
        transcript = "\n".join(_line(m) for m in messages)
        overall = await scorer.score(case.model_copy(update={"input": transcript}), repeat, whole)
        checks += overall.checks
        if overall.score is not None:
            parts_f.append(overall.score)
        passed = passed and overall.passed
    score = _aggregate(parts_f, case.turn_aggregate)
    last = responses[-1] if responses else None
    error = next((t.error for t in turns if t.error is not None), None)
    return CaseResult(
        id=case.id,
        repeat=repeat,
        input=case.input if case.input != "" else (case.turns or ())[0].input,
        output=last.text if last is not None else None,
        score=score,
        passed=passed,
        error=error,
        latency_ms=math.fsum(r.latency_ms for r in spent) if spent else None,
        prompt_tokens=sum(r.usage.prompt_tokens for r in spent),
        completion_tokens=sum(r.usage.completion_tokens for r in spent),
        cost_usd=math.fsum(r.cost_usd or 0.0 for r in spent),
        cached=bool(spent) and all(r.cached for r in spent),
        tags=list(case.tags),
        weight=case.weight,
        checks=checks,
        tool_calls=(list(last.tool_calls) or None) if last is not None else None,
        messages=messages or None,
        turns=turns,
    )
