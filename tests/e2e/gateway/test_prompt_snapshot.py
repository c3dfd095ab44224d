"""A prompt file edited to a new version: the incumbent keeps serving the prompt it was
registered with (its snapshot), the canary the new one, through a real gateway process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml

from releasegate.store.database import open_database
from tests.e2e.deploy._cli import run
from tests.e2e.gateway._process import serve
from tests.support.gateway_upstream import GatewayUpstream

V1 = {
    "name": "p",
    "version": "1.0.0",
    "model": "m-1",
    "system": "You answer as version one.",
    "template": "Q: {{ input }}",
}
V2 = {**V1, "version": "1.1.0", "system": "You answer as version two, reworded."}


def _cli(root: Path, db_url: str, *args: str) -> str:
    done = run(*args, "--db", db_url, cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_edited_prompt_file_both_arms_serve_their_own_prompt(tmp_path: Path) -> None:
    root = tmp_path
    prompt_file = root / "prompts" / "p.yaml"
    prompt_file.parent.mkdir()
    prompt_file.write_text(yaml.safe_dump(V1))
    db_url = f"sqlite:///{root / 'rg.sqlite'}"
    open_database(db_url, create=True).close()
    with GatewayUpstream.run_in_thread(record=True) as up:
        config = {
            "version": 1,
            "providers": {"main": {"type": "openai", "base_url": up.base_url, "model": "m-1"}},
            "prompts": "prompts/",
            "gateway": {"default_provider": "main"},
        }
        (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
        register = ("deploy", "register", "feat", "--model", "m-1", "--actor", "t")
        _cli(root, db_url, *register[:3], "v1", *register[3:], "--prompt", "p@1.0.0")
        _cli(root, db_url, "deploy", "approve", "feat", "v1", "--actor", "t")
        _cli(root, db_url, "deploy", "promote", "feat", "v1", "--actor", "t")
        # Reworded without a new version: 1.0.0 is registered, its content is fixed.
        prompt_file.write_text(yaml.safe_dump({**V2, "version": "1.0.0"}))
        refused = run(
            *register[:3], "v9", *register[3:], "--prompt", "p@1.0.0", "--db", db_url, cwd=root
        )
        assert refused.returncode != 0
        assert "already registered with other content" in refused.stderr
        prompt_file.write_text(yaml.safe_dump(V2))  # the user rewords the prompt
        _cli(root, db_url, *register[:3], "v2", *register[3:], "--prompt", "p@1.1.0")
        _cli(root, db_url, "deploy", "approve", "feat", "v2", "--actor", "t")
        _cli(
            root,
            db_url,
            "deploy",
            "canary",
            "feat",
            "v2",
            "--share=50%",
            "--actor",
            "t",
            "--override-reason",
            "test",
        )
        status = json.loads(_cli(root, db_url, "deploy", "status", "feat", "--json"))
        snaps = {d["version"]: d["prompt_snapshot"] for d in status["deployments"]}
        assert all(s and len(s["content_hash"]) == 64 for s in snaps.values()), snaps
        assert snaps["v1"] != snaps["v2"]

        with serve(root, db_url) as gw:
            seen: dict[str, str] = {}
            for i in range(40):
                before = len(up.requests)
                r = httpx.post(
                    gw.url + "/v1/chat/completions",
                    json={"model": "feat", "messages": [{"role": "user", "content": "hi"}]},
                    headers={"X-Releasegate-Unit": f"unit-{i}"},
                    timeout=10,
                )
                assert r.status_code == 200, r.text
                version = r.headers["x-releasegate-version"]
                sent = up.requests[before:]
                assert len(sent) == 1
                system = sent[0].body["messages"][0]
                expected = V1 if version == "v1" else V2
                assert system == {"role": "system", "content": expected["system"]}
                seen[f"unit-{i}"] = version
            assert set(seen.values()) == {"v1", "v2"}
