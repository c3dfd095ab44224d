"""Build small releasegate projects on disk for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["make_project"]

PROMPT = {
    "name": "echo",
    "version": "1.0.0",
    "model": "gpt-4o-2024-11-20",
    "params": {"temperature": 0},
    "system": "Repeat the question.",
    "template": "Q: {{ input }}",
}


def make_project(
    root: Path,
    *,
    base_url: str,
    n_cases: int = 5,
    provider: dict[str, Any] | None = None,
    gate: dict[str, Any] | None = None,
    cases: list[dict[str, Any]] | None = None,
    pricing: dict[str, Any] | None = None,
    cache: bool = True,
) -> Path:
    """Write config, prompt and dataset under ``root``; return the config path.

    The default cases ask the echo server a question containing ``needle-i``, and
    assert that the answer contains it (passes against an echoing server).
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "prompts").mkdir(exist_ok=True)
    (root / "datasets").mkdir(exist_ok=True)
    (root / "prompts" / "echo.yaml").write_text(yaml.safe_dump(PROMPT))
    if cases is None:
        cases = [
            {
                "id": f"c{i:02d}",
                "input": f"what is needle-{i}?",
                "tags": ["even" if i % 2 == 0 else "odd"],
                "assert": [
                    {"type": "contains", "value": f"needle-{i}"},
                    {"type": "max-words", "value": 50},
                ],
            }
            for i in range(n_cases)
        ]
    (root / "datasets" / "cases.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    target: dict[str, Any] = {
        "type": "openai",
        "base_url": base_url,
        "model": "gpt-4o-2024-11-20",
        "timeout_s": 5,
        "max_retries": 3,
    }
    target.update(provider or {})
    config: dict[str, Any] = {
        "version": 1,
        "providers": {"target": target},
        "prompts": "prompts/",
        "suites": {
            "pr": {
                "dataset": "datasets/cases.yaml",
                "prompt": "echo",
                "target": "target",
                "gate": gate or {"min_score": 0.9, "min_pass_rate": 0.9, "case_threshold": 0.6},
            }
        },
        "cache": {"enabled": cache, "path": ".releasegate/cache.sqlite"},
    }
    if pricing:
        config["pricing"] = pricing
    path = root / "releasegate.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
