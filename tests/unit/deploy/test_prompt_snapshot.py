"""Registering a version keeps a snapshot of its prompt; a prompt version never changes."""

from __future__ import annotations

import pytest

from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.control.snapshots import snapshot_prompt
from releasegate.deploy.model import Deployment
from releasegate.errors import DeploymentError, UsageError
from releasegate.prompts import Prompt

P1 = Prompt(
    name="p",
    version="1.0.0",
    model="m-1",
    params={"temperature": 0},
    system="Be brief.",
    template="Q: {{ input }}",
    tools=[{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
    tool_choice="auto",
)


@pytest.fixture
def svc() -> DeploymentService:
    return ControlPlaneParts.in_memory().deployments()


def test_register_with_the_prompt_keeps_its_full_definition(svc: DeploymentService) -> None:
    svc.register("chat", "v1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=P1)
    dep = svc.get("chat", "v1")
    assert dep.prompt_snapshot is not None
    assert dep.snapshot_hash == P1.content_hash
    back = snapshot_prompt(dep.prompt_snapshot)
    assert back == P1 and back.content_hash == P1.content_hash
    assert back.tools == P1.tools and back.tool_choice == "auto"
    shown = dep.to_json()["prompt_snapshot"]
    assert shown == {"content_hash": P1.content_hash}  # whether, not the text
    assert Deployment.from_json(dep.to_json()).snapshot_hash == P1.content_hash
    assert svc.history("chat")[0].evidence["prompt_hash"] == P1.content_hash


def test_register_without_the_prompt_has_no_snapshot(svc: DeploymentService) -> None:
    dep = svc.register("chat", "v1", prompt="p@1.0.0", model="m-1", actor="t")
    assert dep.prompt_snapshot is None and dep.snapshot_hash is None
    assert dep.to_json()["prompt_snapshot"] is None


def test_snapshot_of_another_prompt_is_refused(svc: DeploymentService) -> None:
    with pytest.raises(UsageError, match=r"snapshot is p@1\.0\.0.*names p@2\.0\.0"):
        svc.register("chat", "v1", prompt="p@2.0.0", model="m-1", actor="t", snapshot=P1)
    assert svc.features() == []


def test_same_prompt_version_with_other_content_is_refused(svc: DeploymentService) -> None:
    svc.register("chat", "v1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=P1)
    edited = P1.model_copy(update={"system": "Be verbose."})
    with pytest.raises(DeploymentError, match=r"p@1\.0\.0 is already registered with other"):
        svc.register("faq", "f1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=edited)
    assert svc.features() == ["chat"]
    # The same content is welcome under another feature, and so is no snapshot at all.
    svc.register("faq", "f1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=P1)
    svc.register("faq", "f2", prompt="p@1.0.0", model="m-1", actor="t")
    # A new prompt version with the edited text is the way out.
    bumped = edited.model_copy(update={"version": "1.1.0"})
    svc.register("chat", "v2", prompt="p@1.1.0", model="m-1", actor="t", snapshot=bumped)
    assert svc.get("chat", "v2").snapshot_hash == bumped.content_hash
