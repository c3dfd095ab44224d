"""The demo's project files: written whole, valid, and sized as labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.bootstrap.online import canary_policy_for
from releasegate.datasets import load_dataset
from releasegate.demo._files import FEATURE, load_plan, load_traffic, write_project
from releasegate.deploy.model import Deployment
from releasegate.deploy.status import Status
from releasegate.errors import ConfigError, UsageError
from releasegate.project import load_project

URL = "http://127.0.0.1:9/v1"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    write_project(tmp_path / "demo", URL)
    return tmp_path / "demo"


def test_every_file_is_written_and_the_model_url_filled_in(project_dir: Path) -> None:
    files = sorted(str(p.relative_to(project_dir)) for p in project_dir.rglob("*") if p.is_file())
    assert files == [
        "datasets/golden.yaml",
        "prompts/review-sentiment-v1.yaml",
        "prompts/review-sentiment-v2.yaml",
        "prompts/review-sentiment-v3.yaml",
        "releasegate.yaml",
        "rollout-quick.yaml",
        "rollout.yaml",
        "traffic.yaml",
    ]
    config = (project_dir / "releasegate.yaml").read_text()
    assert "__MODEL_URL__" not in config and config.count(URL) == 2


def test_the_project_loads_with_one_suite_per_prompt_version(project_dir: Path) -> None:
    project = load_project(project_dir / "releasegate.yaml")
    for v in (1, 2, 3):
        suite = project.suite(f"golden-v{v}")
        assert suite.prompt == f"review-sentiment-v{v}"
        assert project.prompt(suite.prompt).model == "SmolLM2-135M-Instruct-Q4_1"
        assert project.prompt(suite.prompt).params["temperature"] == 0
    assert project.config.online.features[FEATURE].checks
    assert project.config.gateway.default_provider == "model-server"


def test_the_golden_dataset_is_balanced_and_quick_is_a_balanced_half(project_dir: Path) -> None:
    cases = load_dataset(project_dir / "datasets" / "golden.yaml").cases
    assert len(cases) == 20
    labels = [c.reference for c in cases]
    assert labels.count("positive") == labels.count("negative") == 10
    quick = [c for c in cases if "quick" in c.tags]
    assert len(quick) == 10
    assert sorted(c.reference for c in quick) == ["negative"] * 5 + ["positive"] * 5


def test_plans_traffic_and_the_canary_policy_are_the_labelled_demo_settings(
    project_dir: Path,
) -> None:
    for name in ("rollout.yaml", "rollout-quick.yaml"):
        plan = load_plan(project_dir / name)
        assert [s.share for s in plan.stages] == [0.25, 0.5, 1.0]
        assert all(s.min_duration_s <= 20 and s.min_samples <= 12 for s in plan.stages)
    traffic = load_traffic(project_dir / "traffic.yaml")
    assert traffic.users >= 100 and len(traffic.reviews) >= 20
    golden = (project_dir / "datasets" / "golden.yaml").read_text()
    assert not any(review in golden for review in traffic.reviews)  # traffic is not the test set
    project = load_project(project_dir / "releasegate.yaml")
    dep = Deployment(
        feature=FEATURE,
        version="v3",
        prompt_name="review-sentiment-v3",
        prompt_version="3.0.0",
        model="m",
        status=Status.CANARY,
        min_score=0.5,
    )
    policy = canary_policy_for(project.config.online)(dep)
    assert (policy.min_samples, policy.n_star, policy.margin) == (20, 40, 0.10)
    assert policy.min_score == 0.5 and policy.alpha == 0.05  # unset fields keep the defaults


def test_a_directory_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="new or empty directory"):
        write_project(tmp_path, URL)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_bad_plan_or_traffic_file_says_which_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("name: x\nstages: [{share: 0.5}, {share: 0.2}]\n")
    with pytest.raises(ConfigError, match=r"plan\.yaml: not a rollout plan"):
        load_plan(plan)
    traffic = tmp_path / "traffic.yaml"
    traffic.write_text("users: 0\nreviews: []\n")
    with pytest.raises(ConfigError, match=r"traffic\.yaml: needs users"):
        load_traffic(traffic)
