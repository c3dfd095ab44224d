"""Model-graded RAG checks: ``faithfulness``, ``answer-relevancy``, ``context-precision``
and ``context-recall``. Formulas and worked examples: ``docs/metrics.md``.

Each check declares the sample fields it needs in ``requires``; the dispatcher reports *not
applicable* without calling it when one is missing. A judge or embedder failure, or an
answer that cannot be read, makes the check *unmeasured*, never 0 or 1.

Common options: ``temperature`` (judge temperature, default 0) and ``structured``
(request JSON-schema output, default true).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from releasegate.llm import ChatProvider, EmbeddingProvider, Message
from releasegate.scorers import _judge_rag_prompts as prompts
from releasegate.scorers._judge_call import (
    JudgeFailure,
    JudgeTally,
    ask_json,
    cosine,
    embed,
    gather_all,
    need_embedder,
    need_judge,
    option_float,
    option_int,
)
from releasegate.scorers._judge_parse import (
    JudgeParseError,
    lowered_keys,
    parse_bool,
    require_list,
)
from releasegate.scorers._judge_verdicts import in_claim_order, strings, verdict_list
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "AnswerRelevancy",
    "ContextPrecision",
    "ContextRecall",
    "Faithfulness",
    "average_precision",
]


def average_precision(relevant: list[bool]) -> float:
    """Average precision of a ranking: mean of precision@k over the relevant ranks k.

    0.0 when nothing is relevant.
    """
    hits = 0
    total = 0.0
    for k, rel in enumerate(relevant, 1):
        if rel:
            hits += 1
            total += hits / k
    return total / hits if hits else 0.0


class _JudgeCheck:
    name = ""
    expensive = True  # judge calls: run concurrently with the case's other checks
    requires: frozenset[str] = frozenset()
    default_threshold = 0.5

    def __init__(self, judge: ChatProvider, spec: AssertSpec) -> None:
        opts = spec.options
        self.judge = judge
        self.temperature = option_float(opts, "temperature", 0.0, lo=0.0, hi=2.0)
        structured = opts.get("structured", True)
        if not isinstance(structured, bool):
            raise ValueError(f"option 'structured' must be true or false, got {structured!r}")
        self.structured = structured
        if spec.threshold is not None:
            self.default_threshold = spec.threshold

    async def _ask(
        self, messages: list[Message], sample: Sample, tally: JudgeTally, schema: tuple[str, Any]
    ) -> dict[str, Any]:
        return await ask_json(
            self.judge,
            messages,
            sample=sample,
            tally=tally,
            schema_name=schema[0],
            schema=schema[1],
            temperature=self.temperature,
            structured=self.structured,
        )

    async def score(self, sample: Sample) -> Score:
        tally = JudgeTally()
        try:
            return await self._score(sample, tally)
        except JudgeFailure as exc:
            return tally.unmeasured(str(exc))
        except JudgeParseError as exc:
            return tally.unmeasured(f"unreadable judge answer: {exc}")

    async def _score(self, sample: Sample, tally: JudgeTally) -> Score:
        raise NotImplementedError


class Faithfulness(_JudgeCheck):
    """Share of the answer's claims that the retrieved context supports (2 judge calls)."""

    name = "faithfulness"
    requires = frozenset({"context"})

    async def _score(self, sample: Sample, tally: JudgeTally) -> Score:
        chunks = list(sample.context)
        got = await self._ask(
            prompts.claims_messages(sample.input, sample.output),
            sample,
            tally,
            ("claims", prompts.CLAIMS_SCHEMA),
        )
        claims = strings(require_list(got, "claims", "statements"), "claims")
        if not claims:
            return tally.not_applicable("the answer makes no factual claim to check")
        got = await self._ask(
            prompts.verify_messages(claims, chunks),
            sample,
            tally,
            ("verdicts", prompts.VERDICTS_SCHEMA),
        )
        items = in_claim_order(require_list(got, "verdicts"))
        verdicts = verdict_list(items, "supported", len(claims), "claim")
        supported = sum(verdicts)
        unsupported = [c for c, ok in zip(claims, verdicts, strict=True) if not ok]
        reason = f"{supported} of {len(claims)} claims supported by the context"
        if unsupported:
            reason += f"; first unsupported: {unsupported[0]!r}"
        return tally.measured(supported / len(claims), reason, claims=claims, verdicts=verdicts)


class ContextPrecision(_JudgeCheck):
    """Average precision of the retrieved chunks' relevance (one judge call per chunk,
    concurrently). Relevance is judged against the reference when the case has one, else
    against the answer (option ``against``: ``auto``, ``reference`` or ``answer``)."""

    name = "context-precision"

    def __init__(self, judge: ChatProvider, spec: AssertSpec) -> None:
        super().__init__(judge, spec)
        against = spec.options.get("against", "auto")
        if against not in ("auto", "reference", "answer"):
            raise ValueError(f"option 'against' must be auto, reference or answer, got {against!r}")
        self.against = against
        self.requires = frozenset(
            {"context", "reference"} if against == "reference" else {"context"}
        )

    async def _score(self, sample: Sample, tally: JudgeTally) -> Score:
        use_ref = self.against == "reference" or (self.against == "auto" and bool(sample.reference))
        target, label = (
            (sample.reference or "", "REFERENCE") if use_ref else (sample.output, "ANSWER")
        )
        chunks = list(sample.context)
        if not chunks:
            return tally.not_applicable("the case has no retrieved chunks")
        answers = await gather_all(
            [
                self._ask(
                    prompts.relevance_messages(sample.input, target, label, chunk),
                    sample,
                    tally,
                    ("relevance", prompts.RELEVANCE_SCHEMA),
                )
                for chunk in chunks
            ]
        )
        relevant = verdict_list(answers, "relevant", len(chunks), "chunk")
        value = average_precision(relevant)
        ranks = [i for i, r in enumerate(relevant, 1) if r]
        reason = (
            f"relevant chunks at ranks {ranks} of {len(chunks)} "
            f"(judged against the {label.lower()})"
            if ranks
            else f"none of {len(chunks)} retrieved chunks is relevant"
        )
        return tally.measured(value, reason, relevant=relevant)


class ContextRecall(_JudgeCheck):
    """Share of the reference's statements attributable to the retrieved context
    (1 judge call)."""

    name = "context-recall"
    requires = frozenset({"context", "reference"})

    async def _score(self, sample: Sample, tally: JudgeTally) -> Score:
        got = await self._ask(
            prompts.attribution_messages(
                sample.input, sample.reference or "", list(sample.context)
            ),
            sample,
            tally,
            ("attribution", prompts.ATTRIBUTION_SCHEMA),
        )
        items = require_list(got, "statements", "verdicts")
        if not items:
            return tally.unmeasured("the judge found no statement in the reference")
        attributed = verdict_list(items, "attributed", None, "statement")
        hits = sum(attributed)
        return tally.measured(
            hits / len(attributed),
            f"{hits} of {len(attributed)} reference statements found in the context",
            attributed=attributed,
        )


class AnswerRelevancy(_JudgeCheck):
    """Mean cosine similarity between the question and questions a judge writes back from
    the answer (1 judge call, 1 embedding call); 0 for a non-committal answer.
    Option ``questions``: how many questions to generate (1-10, default 3)."""

    name = "answer-relevancy"

    def __init__(self, judge: ChatProvider, embedder: EmbeddingProvider, spec: AssertSpec) -> None:
        super().__init__(judge, spec)
        self.embedder = embedder
        self.n_questions = option_int(spec.options, "questions", 3, lo=1, hi=10)

    async def _score(self, sample: Sample, tally: JudgeTally) -> Score:
        got = await self._ask(
            prompts.questions_messages(sample.output, self.n_questions),
            sample,
            tally,
            ("questions", prompts.QUESTIONS_SCHEMA),
        )
        lowered = lowered_keys(got)
        noncommittal = parse_bool(lowered.get("noncommittal", False), what="noncommittal")
        if noncommittal:
            return tally.measured(0.0, "the answer is non-committal", noncommittal=True)
        questions = strings(require_list(got, "questions"), "questions")
        if not questions:
            raise JudgeParseError("the judge wrote no question back from the answer")
        vectors = await embed(self.embedder, [sample.input, *questions])
        sims = [cosine(vectors[0], v) for v in vectors[1:]]
        value = max(0.0, sum(sims) / len(sims))
        best = questions[max(range(len(sims)), key=sims.__getitem__)]
        return tally.measured(
            value,
            f"mean similarity {value:.2f} of {len(questions)} generated questions; "
            f"closest: {best!r}",
            questions=questions,
            similarities=sims,
        )


def build_faithfulness(spec: AssertSpec, ctx: ScorerContext) -> Faithfulness:
    return Faithfulness(need_judge(spec.type, ctx.judge), spec)


def build_context_precision(spec: AssertSpec, ctx: ScorerContext) -> ContextPrecision:
    return ContextPrecision(need_judge(spec.type, ctx.judge), spec)


def build_context_recall(spec: AssertSpec, ctx: ScorerContext) -> ContextRecall:
    return ContextRecall(need_judge(spec.type, ctx.judge), spec)


def build_answer_relevancy(spec: AssertSpec, ctx: ScorerContext) -> AnswerRelevancy:
    return AnswerRelevancy(
        need_judge(spec.type, ctx.judge), need_embedder(spec.type, ctx.embedder), spec
    )
