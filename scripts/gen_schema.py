"""Generate the JSON Schemas in docs/schema/ and the config reference docs/config.md.

Everything is derived from the pydantic models, so the published schemas and the
reference cannot drift from the code; a unit test compares the committed files with a
fresh generation.

Usage::

    python scripts/gen_schema.py           # (re)write the files
    python scripts/gen_schema.py --check   # exit 1 if a committed file is out of date
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from releasegate.config import (
    BreakerConfig,
    BudgetsConfig,
    CacheConfig,
    CanaryAnalysisConfig,
    FallbackConfig,
    FeatureScoring,
    GateConfig,
    GatewayConfig,
    GatewayRecordingConfig,
    OnlineConfig,
    OtlpConfig,
    PriceEntry,
    ProjectConfig,
    ProviderConfig,
    RedactRule,
    ScoringFilters,
    ShadowConfig,
    SuiteConfig,
)
from releasegate.datasets.case import Case
from releasegate.prompts import Prompt
from releasegate.results.report import EvalReport

__all__ = ["ROOT", "config_reference", "main", "render_all", "schemas"]

ROOT = Path(__file__).resolve().parent.parent
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Descriptions for config keys whose Field() has none yet. A description written in
# releasegate/config.py always wins over this table.
FALLBACK_DESCRIPTIONS: dict[str, str] = {
    "ProjectConfig.version": "Config format version; only 1 exists",
    "ProjectConfig.providers": "Named providers: targets, judges and embedders",
    "ProjectConfig.prompts": "Directory of prompt files, relative to the config file",
    "ProjectConfig.suites": "Named suites (for example a fast `pr` and a full `nightly`)",
    "ProjectConfig.pricing": "Prices per model, added to or overriding the built-in table",
    "ProjectConfig.cache": "Response cache settings",
    "ProviderConfig.base_url": "Endpoint base URL (OpenAI-compatible servers, proxies)",
    "ProviderConfig.timeout_s": "Seconds before one call is abandoned",
    "ProviderConfig.max_retries": "Retries of a failed call (429, 5xx, timeouts)",
    "ProviderConfig.headers": "Extra HTTP headers sent with every call",
    "SuiteConfig.dataset": "Dataset file or list of files, relative to the config file",
    "SuiteConfig.prompt": "Prompt name; without one, the case input is sent as is",
    "SuiteConfig.target": "Provider whose answers are evaluated",
    "SuiteConfig.judge": "Provider used by model-graded checks",
    "SuiteConfig.embedder": "Provider used by semantic-similarity checks",
    "SuiteConfig.gate": "Thresholds that decide the suite's verdict",
    "SuiteConfig.repeat": "How many times each case is run",
    "SuiteConfig.description": "Free text shown in reports",
    "GateConfig.min_score": "Lowest allowed weighted mean score",
    "GateConfig.min_pass_rate": "Lowest allowed share of passing cases",
    "GateConfig.min_tag_scores": "Lowest allowed mean score per tag",
    "GateConfig.min_check_scores": "Lowest allowed mean score per check type",
    "GateConfig.max_error_rate": "Highest allowed share of cases whose target call failed",
    "GateConfig.max_cost_usd": "Highest allowed total cost of the run, in USD",
    "GateConfig.max_latency_p95_ms": "Highest allowed p95 latency of target calls, in ms",
    "PriceEntry.input_per_mtok": "USD per million input (prompt) tokens",
    "PriceEntry.output_per_mtok": "USD per million output (completion) tokens",
    "CacheConfig.enabled": "Cache target and judge responses",
    "CacheConfig.path": "Cache database file, relative to the config file",
}

CONFIG_MODELS: list[type[BaseModel]] = [
    ProjectConfig,
    ProviderConfig,
    SuiteConfig,
    GateConfig,
    CacheConfig,
    PriceEntry,
    OnlineConfig,
    FeatureScoring,
    ScoringFilters,
    CanaryAnalysisConfig,
    RedactRule,
    GatewayConfig,
    FallbackConfig,
    BreakerConfig,
    BudgetsConfig,
    ShadowConfig,
    OtlpConfig,
    GatewayRecordingConfig,
]


def _with_header(schema: dict[str, Any], title: str, description: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "title": title, "description": description, **schema}


def _dataset_schema() -> dict[str, Any]:
    case = Case.model_json_schema(by_alias=True)
    defs: dict[str, Any] = case.pop("$defs", {})
    for loader_only in ("source", "line", "default_asserts"):
        case["properties"].pop(loader_only, None)
    defaults = copy.deepcopy(case)
    defaults["properties"].pop("id")
    defaults.pop("required", None)
    defaults["title"] = "CaseDefaults"
    defaults["description"] = (
        "Values merged into every case: assert lists are concatenated (defaults first), "
        "tags united, metadata and vars merged key by key (the case wins), other fields "
        "used when the case omits them."
    )
    # A multi-turn case's inputs are its turns': it needs `input` or `turns`.
    case["required"] = [r for r in case.get("required", []) if r != "input"]
    case["anyOf"] = [{"required": ["input"]}, {"required": ["turns"]}]
    defs["Case"] = case
    defs["CaseDefaults"] = defaults
    cases = {"type": "array", "items": {"$ref": "#/$defs/Case"}}
    return {
        "$schema": DRAFT,
        "title": "releasegate dataset",
        "description": "A YAML dataset: a list of cases, or a mapping with shared defaults "
        "and the cases. A JSONL dataset holds one Case object per line.",
        "$defs": defs,
        "anyOf": [
            cases,
            {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "defaults": {"$ref": "#/$defs/CaseDefaults"},
                    "cases": cases,
                },
                "required": ["cases"],
                "additionalProperties": False,
            },
        ],
    }


def schemas() -> dict[str, dict[str, Any]]:
    """Every published JSON Schema, by file name under ``docs/schema/``."""
    prompt = Prompt.model_json_schema()
    prompt["properties"].pop("path", None)  # set by the loader, not written in files
    return {
        "releasegate.schema.json": _with_header(
            ProjectConfig.model_json_schema(),
            "releasegate.yaml",
            "Project configuration of releasegate (see docs/config.md).",
        ),
        "prompt.schema.json": _with_header(
            prompt, "releasegate prompt", "A versioned prompt file (see docs/prompts.md)."
        ),
        "dataset.schema.json": _dataset_schema(),
        "report.schema.json": _with_header(
            EvalReport.model_json_schema(),
            "releasegate eval report",
            "The JSON report of one evaluation run (see docs/report-schema.md).",
        ),
    }


def _type_of(prop: dict[str, Any]) -> str:
    """A short, readable type for one JSON-Schema property."""
    if "$ref" in prop:
        name = str(prop["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        parts = [_type_of(p) for p in prop["anyOf"] if p.get("type") != "null"]
        optional = any(p.get("type") == "null" for p in prop["anyOf"])
        text = " or ".join(parts)
        return f"{text} (optional)" if optional else text
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " or ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}))}"
    if kind == "object":
        values = prop.get("additionalProperties")
        if isinstance(values, dict) and values:
            return f"map of name to {_type_of(values)}"
        return "mapping"
    names = {"string": "text", "number": "number", "integer": "integer", "boolean": "boolean"}
    return names.get(str(kind), "any")


def _default_of(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see section"
    if value is None:
        return "—"
    return f"`{json.dumps(value)}`"


def _bounds(prop: dict[str, Any]) -> str:
    marks = {
        "minimum": ">=",
        "exclusiveMinimum": ">",
        "maximum": "<=",
        "exclusiveMaximum": "<",
    }
    found = [f"{sym} {prop[k]}" for k, sym in marks.items() if k in prop]
    for option in prop.get("anyOf", []):
        found += [f"{sym} {option[k]}" for k, sym in marks.items() if k in option]
    return f" ({', '.join(found)})" if found else ""


def config_reference() -> str:
    """The Markdown reference of every ``releasegate.yaml`` key."""
    lines = [
        "# Configuration reference (`releasegate.yaml`)",
        "",
        "<!-- Generated by scripts/gen_schema.py from releasegate/config.py; do not edit. -->",
        "",
        "Paths are relative to the directory holding the config file. Editors can validate",
        "the file with the JSON Schema in",
        "[`docs/schema/releasegate.schema.json`](schema/releasegate.schema.json), for example",
        "with a first line `# yaml-language-server: $schema=<path to that file>`.",
        "`releasegate validate` checks the config, every prompt and dataset, and model pins;",
        "see [datasets](datasets.md) and [prompts](prompts.md) for those files.",
        "",
    ]
    for model in CONFIG_MODELS:
        schema = model.model_json_schema()
        props: dict[str, Any] = schema.get("properties", {})
        lines += [f"## {model.__name__}", ""]
        doc = (model.__doc__ or "").strip().split("\n\n")[0]
        if doc:
            lines += [" ".join(doc.split()), ""]
        extra = model.model_config.get("extra")
        if extra == "allow":
            lines += ["Keys not listed here are passed to the provider as options.", ""]
        lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            key = field.alias or name
            prop = props.get(key, {})
            description = field.description or FALLBACK_DESCRIPTIONS.get(
                f"{model.__name__}.{name}", ""
            )
            lines.append(
                f"| `{key}` | {_type_of(prop)}{_bounds(prop)} | {_default_of(model, name)} | "
                f"{description.replace('|', '/')} |"
            )
        lines.append("")
    return "\n".join(lines)


def render_all() -> dict[str, str]:
    """Every generated file's text, by path relative to the repository root."""
    out = {
        f"docs/schema/{name}": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        for name, schema in schemas().items()
    }
    out["docs/config.md"] = config_reference()
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the generated files, or with ``--check`` report the stale ones."""
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    stale: list[str] = []
    for rel, text in render_all().items():
        path = ROOT / rel
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print("out of date (run python scripts/gen_schema.py):", *stale, sep="\n  ")
        return 1
    for rel in stale:
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
