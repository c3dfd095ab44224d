"""The top-level API is exactly the documented names (house style: httpx)."""

from __future__ import annotations

import pytest

import releasegate

pytestmark = pytest.mark.unit

EXPECTED = {
    "AssertSpec",
    "CanaryPolicy",
    "Case",
    "Dataset",
    "Decision",
    "EvalOptions",
    "EvalReport",
    "Observation",
    "Project",
    "ReleasegateError",
    "Router",
    "__version__",
    "analyze_canary",
    "arun_eval",
    "bucket",
    "feedback",
    "load_dataset",
    "load_project",
    "record",
    "run_eval",
}


def test_all_is_exactly_the_public_names() -> None:
    assert set(releasegate.__all__) == EXPECTED
    for name in releasegate.__all__:
        assert hasattr(releasegate, name), name


def test_public_names_are_documented() -> None:
    for name in releasegate.__all__:
        obj = getattr(releasegate, name)
        if callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_lazy_names_resolve_to_their_modules() -> None:
    from releasegate.deploy import bucket
    from releasegate.evals.runner import run_eval

    assert releasegate.run_eval is run_eval
    assert releasegate.bucket is bucket
    from releasegate.canary import analyze_canary

    assert releasegate.analyze_canary is analyze_canary
    assert "run_eval" in dir(releasegate)
    with pytest.raises(AttributeError):
        _ = releasegate.no_such_name  # type: ignore[attr-defined]
