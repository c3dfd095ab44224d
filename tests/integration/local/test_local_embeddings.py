"""The real all-MiniLM-L6-v2 weights, no mocks."""

from __future__ import annotations

import pytest

from releasegate.datasets.case import Case
from releasegate.evals._scoring import case_sample
from releasegate.providers.embeddings import LocalEmbedder
from releasegate.scorers import ScorerContext, ScoreStatus, build_scorer
from releasegate.scorers._judge_call import cosine
from releasegate.scorers.spec import AssertSpec

pytestmark = pytest.mark.slow

REFERENCE = "The cat is sleeping on the warm windowsill."
PARAPHRASE = "A cat naps on the sunny window ledge."
UNRELATED = "Quarterly revenue grew by eight percent in Europe."


async def test_vectors_are_unit_length_384d(embedder: LocalEmbedder) -> None:
    vectors = await embedder.embed([REFERENCE, UNRELATED])
    assert len(vectors) == 2
    for v in vectors:
        assert len(v) == 384
        assert sum(x * x for x in v) == pytest.approx(1.0, abs=1e-4)


async def test_identical_texts_score_about_one(embedder: LocalEmbedder) -> None:
    a, b = await embedder.embed([REFERENCE, REFERENCE])
    assert cosine(a, b) == pytest.approx(1.0, abs=1e-4)


async def test_paraphrase_scores_above_unrelated(embedder: LocalEmbedder) -> None:
    ref, para, other = await embedder.embed([REFERENCE, PARAPHRASE, UNRELATED])
    assert cosine(ref, para) > cosine(ref, other) + 0.2


async def test_similar_check_end_to_end(embedder: LocalEmbedder) -> None:
    check = build_scorer(AssertSpec(type="similar", value=0.6), ScorerContext(embedder=embedder))
    case = Case(id="cat", input="Where is the cat?", reference=REFERENCE)
    same = await check.score(case_sample(case, REFERENCE))
    para = await check.score(case_sample(case, PARAPHRASE))
    other = await check.score(case_sample(case, UNRELATED))
    assert same.status is ScoreStatus.MEASURED and same.value == pytest.approx(1.0, abs=1e-4)
    assert para.value is not None and other.value is not None
    assert para.value > other.value
    assert para.value >= check.default_threshold > other.value


async def test_empty_input_is_fine(embedder: LocalEmbedder) -> None:
    assert await embedder.embed([]) == []
