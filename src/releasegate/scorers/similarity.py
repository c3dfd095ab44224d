"""``similar``: embedding cosine similarity between the answer and the case's reference.

The score is the cosine similarity clipped to [0, 1]; the check passes at or above its
threshold (the spec's ``threshold``, else ``value``, else 0.8). See ``docs/metrics.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate.llm import EmbeddingProvider
from releasegate.scorers._judge_call import JudgeFailure, cosine, embed, need_embedder
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = ["DEFAULT_SIMILARITY_THRESHOLD", "Similar"]

DEFAULT_SIMILARITY_THRESHOLD = 0.8


class Similar:
    """Cosine similarity of the answer's and the reference's embeddings."""

    name = "similar"
    expensive = True  # embedding calls
    requires = frozenset({"reference"})

    def __init__(self, embedder: EmbeddingProvider, threshold: float) -> None:
        self.embedder = embedder
        self.default_threshold = threshold

    async def score(self, sample: Sample) -> Score:
        reference = sample.reference
        if not reference:
            return Score.not_applicable("the case has no reference")
        try:
            a, b = await embed(self.embedder, [sample.output, reference])
            cos = cosine(a, b)
        except JudgeFailure as exc:
            return Score.unmeasured(str(exc))
        value = max(0.0, cos)  # the score clips a negative cosine to 0 (docs/metrics.md)
        verdict = "at or above" if value >= self.default_threshold else "below"
        return Score.measured(
            value,
            f"cosine similarity to the reference {cos:.3f} is {verdict} "
            f"the threshold {self.default_threshold:g}",
            details={"cosine": cos},
        )


def build_similar(spec: AssertSpec, ctx: ScorerContext) -> Similar:
    embedder = need_embedder(spec.type, ctx.embedder)
    threshold = spec.threshold
    if threshold is None and spec.value is not None:
        if isinstance(spec.value, bool) or not isinstance(spec.value, int | float):
            raise ValueError(
                f"`value` must be a similarity threshold in [0, 1], got {spec.value!r}"
            )
        threshold = float(spec.value)
    if threshold is None:
        threshold = DEFAULT_SIMILARITY_THRESHOLD
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"the similarity threshold must be in [0, 1], got {threshold!r}")
    return Similar(embedder, threshold)
