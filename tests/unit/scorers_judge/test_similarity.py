from __future__ import annotations

import math

import pytest

from releasegate.errors import ConfigError
from releasegate.scorers import ScoreStatus

from ._fakes import FixedEmbedder, make, sample

EMB = FixedEmbedder(
    {
        "Paris": [1.0, 0.0, 0.0],
        "It is Paris": [1.0, 1.0, 0.0],
        "bananas": [0.0, 0.0, 1.0],
        "zero": [0.0, 0.0, 0.0],
        "opposite": [-1.0, 0.0, 0.0],
    }
)


@pytest.mark.parametrize(
    ("output", "expected"),
    [("Paris", 1.0), ("It is Paris", 1 / math.sqrt(2)), ("bananas", 0.0), ("opposite", 0.0)],
)
async def test_similar_is_clipped_cosine(output: str, expected: float) -> None:
    s = await make("similar", embedder=EMB).score(sample(output, reference="Paris"))
    assert s.status is ScoreStatus.MEASURED
    assert s.value == pytest.approx(expected)


async def test_similar_threshold_from_value_threshold_or_default() -> None:
    assert make("similar", embedder=EMB).default_threshold == 0.8
    assert make("similar", embedder=EMB, value=0.6).default_threshold == 0.6
    assert make("similar", embedder=EMB, value=0.6, threshold=0.9).default_threshold == 0.9
    assert make("similar", embedder=EMB).requires == frozenset({"reference"})


async def test_similar_failures_are_unmeasured() -> None:
    check = make("similar", embedder=EMB)
    assert (await check.score(sample("zero", reference="Paris"))).status is ScoreStatus.UNMEASURED
    assert (await check.score(sample("??", reference="Paris"))).status is ScoreStatus.UNMEASURED
    assert (await check.score(sample("Paris"))).status is ScoreStatus.NOT_APPLICABLE


def test_similar_config_errors() -> None:
    with pytest.raises(ConfigError, match="needs an embedder"):
        make("similar")
    with pytest.raises(ConfigError, match="threshold"):
        make("similar", embedder=EMB, value="high")
    with pytest.raises(ConfigError, match="threshold"):
        make("similar", embedder=EMB, value=1.5)
