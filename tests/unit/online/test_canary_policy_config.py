"""online.canary in releasegate.yaml: the canary analysis policy the worker runs with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from releasegate.bootstrap.online import canary_policy_for
from releasegate.canary.policy import CanaryPolicy
from releasegate.config import OnlineConfig
from releasegate.deploy.model import Deployment
from releasegate.deploy.status import Status
from releasegate.errors import ConfigError


def _dep(min_score: float | None = None) -> Deployment:
    return Deployment(
        feature="f",
        version="v2",
        prompt_name="p",
        prompt_version="1.0.0",
        model="m",
        status=Status.CANARY,
        min_score=min_score,
    )


def test_without_a_section_the_policy_is_the_built_in_one() -> None:
    assert canary_policy_for(OnlineConfig())(_dep(0.7)) == CanaryPolicy(min_score=0.7)
    assert canary_policy_for(None)(_dep()) == CanaryPolicy()


def test_written_fields_override_and_null_turns_a_signal_off() -> None:
    online = OnlineConfig.model_validate(
        {
            "canary": {
                "min_samples": 20,
                "margin": 0.1,
                "error_margin": None,
                "modes": {"latency": "dry-run"},
            }
        }
    )
    policy = canary_policy_for(online)(_dep(0.5))
    assert (policy.min_samples, policy.margin, policy.error_margin) == (20, 0.1, None)
    assert policy.mode("latency") == "dry-run" and policy.min_score == 0.5
    assert policy.n_star == CanaryPolicy().n_star  # not written: the default
    unset = canary_policy_for(OnlineConfig.model_validate({"canary": {"margin": 0.1}}))(_dep())
    assert unset.error_margin == CanaryPolicy().error_margin  # absent is not null


def test_values_out_of_range_are_refused_when_the_config_loads() -> None:
    with pytest.raises(ValidationError, match="min_samples"):
        OnlineConfig.model_validate({"canary": {"min_samples": 1}})
    with pytest.raises(ValidationError, match="unknown"):
        OnlineConfig.model_validate({"canary": {"unknown": 1}})


def test_a_bad_combination_fails_when_the_worker_starts_naming_the_field() -> None:
    online = OnlineConfig.model_validate({"canary": {"modes": {"vibes": "enforce"}}})
    with pytest.raises(ConfigError, match=r"online\.canary: .*modes"):
        canary_policy_for(online)
