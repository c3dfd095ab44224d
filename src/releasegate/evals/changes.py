"""Prompt changes versus a git base.

The prompt files of a git ref are read with ``git archive`` into a temporary tree, so
nothing in the working copy is touched (no checkout, no stash). From there:

* :func:`changed_prompts` lists prompts added, modified or removed since the ref, with
  the suites that cover them (``releasegate changed``, ``eval --changed-only``);
* :func:`check_separation` refuses a change that alters a prompt's text *and* its model
  or parameters in one step — a regression could then not be attributed to either;
* :func:`arun_baseline_ref` evaluates a suite with the prompt as it was at the ref, so
  base and head run in one command through the same cache (``eval --baseline-ref``).
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from releasegate.config import ProjectConfig
from releasegate.errors import Issue, UsageError
from releasegate.project import Project
from releasegate.prompts import Prompt, load_prompts

if TYPE_CHECKING:
    from releasegate.evals.runner import EvalOptions
    from releasegate.evals.wiring import EvalAdapters
    from releasegate.results.report import EvalReport

__all__ = [
    "MIXED_CHANGE_MESSAGE",
    "PromptChange",
    "arun_baseline_ref",
    "changed_prompts",
    "changed_suites",
    "check_separation",
    "prompts_at_ref",
    "resolve_ref",
    "suites_covering",
]

MIXED_CHANGE_MESSAGE = (
    "changes both its text (system/template) and its model or parameters relative to {ref}; "
    "ship them as two separate changes so that a regression can be attributed to one of "
    "them (override in an emergency with --allow-mixed-change; the override is recorded "
    "in the report)"
)


@dataclass(frozen=True)
class PromptChange:
    """One prompt that differs between the base ref and the working tree."""

    name: str
    status: Literal["added", "modified", "removed"]
    path: str | None
    text_changed: bool
    config_changed: bool
    base_version: str | None
    head_version: str | None
    suites: list[str] = field(default_factory=list)

    @property
    def mixed(self) -> bool:
        """Text and model/params changed together (refused by ``validate --base``)."""
        return self.text_changed and self.config_changed


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise UsageError(
            "git is not installed or not on PATH; it is needed to compare with a git ref"
        ) from exc
    except NotADirectoryError as exc:
        raise UsageError(f"{root} is not a directory") from exc


def _stderr(proc: subprocess.CompletedProcess[bytes]) -> str:
    text = proc.stderr.decode("utf-8", "replace").strip()
    lines = [ln.removeprefix("fatal: ").strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines) or f"exit {proc.returncode}"


def _git_text(root: Path, *args: str) -> str:
    proc = _git(root, *args)
    if proc.returncode != 0:
        raise UsageError(f"git {' '.join(args)} failed in {root}: {_stderr(proc)}")
    return proc.stdout.decode("utf-8", "replace").strip()


def _check_repository(root: Path) -> None:
    """Raise with git's own reason when ``root`` is not inside a usable git work tree."""
    proc = _git(root, "rev-parse", "--git-dir")
    if proc.returncode == 0:
        return
    reason = _stderr(proc)
    if "not a git repository" in reason.lower():
        raise UsageError(
            f"{root} is not inside a git repository, so there is no git ref to compare "
            f"with (git: {reason})"
        )
    raise UsageError(f"git cannot read the repository at {root}: {reason}")


def _is_shallow(root: Path) -> bool:
    proc = _git(root, "rev-parse", "--is-shallow-repository")
    return proc.returncode == 0 and proc.stdout.decode().strip() == "true"


def resolve_ref(root: Path, ref: str) -> str:
    """The commit id ``ref`` names, or a :class:`UsageError` with git's real reason.

    The reasons told apart: git missing, ``root`` not in a git repository (or one git
    cannot read), a ref that does not exist, and a ref missing from a shallow clone.
    """
    if ref.startswith("-") or not ref.strip():
        raise UsageError(f"invalid git ref {ref!r}")
    _check_repository(root)
    proc = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if _is_shallow(root):
        raise UsageError(
            f"git ref {ref!r} not found: the repository at {root} is a shallow clone "
            "without it; fetch it (e.g. `git fetch origin main`, or `fetch-depth: 0` in "
            "actions/checkout)"
        )
    raise UsageError(
        f"git ref {ref!r} not found in the repository at {root} (no branch, tag or commit "
        "of that name; in CI, fetch it first, e.g. `git fetch origin main`)"
    )


def _repo_relative(root: Path, path: Path) -> tuple[Path, str]:
    """The git top level and ``path`` relative to it (the project may be in a subdirectory)."""
    top = Path(_git_text(root, "rev-parse", "--show-toplevel")).resolve()
    try:
        return top, path.resolve().relative_to(top).as_posix()
    except ValueError:
        raise UsageError(f"{path} is not inside the git repository at {top}") from None


def prompts_at_ref(project: Project, ref: str) -> dict[str, Prompt]:
    """The project's prompts as they were at git ``ref``.

    Each prompt's ``path`` reads ``REF:path/in/repo.yaml`` so that messages point at
    the right version. A prompt directory that did not exist at ``ref`` means no prompts.

    Raises:
        UsageError: when ``ref`` does not exist or git fails.
        PromptError: when a prompt file at ``ref`` is invalid.
    """
    commit = resolve_ref(project.root, ref)
    top, rel = _repo_relative(project.root, project.prompts_dir)
    # From the top level, so that the pathspec and the archived paths are repo-relative.
    proc = _git(top, "archive", "--format=tar", commit, "--", rel)
    if proc.returncode != 0:
        # The directory did not exist at that commit: every prompt is new.
        return {}
    with tempfile.TemporaryDirectory(prefix="releasegate-ref-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
            # The "data" filter refuses absolute paths, links out of the tree, devices.
            tar.extractall(tmp, filter="data")
        loaded = load_prompts(Path(tmp) / rel)
        out: dict[str, Prompt] = {}
        for name, prompt in loaded.items():
            inner = Path(prompt.path or "").resolve()
            try:
                shown = f"{ref}:{inner.relative_to(Path(tmp).resolve()).as_posix()}"
            except ValueError:
                shown = f"{ref}:{rel}"
            out[name] = prompt.model_copy(update={"path": shown})
        return out


def suites_covering(config: ProjectConfig, prompt_name: str) -> list[str]:
    """Names of the suites that evaluate ``prompt_name`` (sorted)."""
    return sorted(name for name, suite in config.suites.items() if suite.prompt == prompt_name)


def changed_prompts(project: Project, base_ref: str) -> list[PromptChange]:
    """Prompts whose content hash differs between ``base_ref`` and the working tree."""
    base = prompts_at_ref(project, base_ref)
    head = project.prompts()
    changes: list[PromptChange] = []
    for name in sorted(set(base) | set(head)):
        b, h = base.get(name), head.get(name)
        if b is not None and h is not None and b.content_hash == h.content_hash:
            continue
        status: Literal["added", "modified", "removed"] = (
            "added" if b is None else "removed" if h is None else "modified"
        )
        current = h if h is not None else b
        changes.append(
            PromptChange(
                name=name,
                status=status,
                path=current.path if current is not None else None,
                text_changed=b is None or h is None or b.text_hash != h.text_hash,
                config_changed=b is None or h is None or b.config_hash != h.config_hash,
                base_version=b.version if b else None,
                head_version=h.version if h else None,
                suites=suites_covering(project.config, name),
            )
        )
    return changes


def changed_suites(project: Project, base_ref: str) -> list[str]:
    """Suites covering at least one added or modified prompt (what ``--changed-only`` runs)."""
    names: set[str] = set()
    for change in changed_prompts(project, base_ref):
        if change.status != "removed":
            names.update(change.suites)
    return sorted(names)


def check_separation(project: Project, base_ref: str) -> list[Issue]:
    """Problems with how prompts changed since ``base_ref``.

    An error for each prompt whose text and model/params both changed (ship them
    separately); a warning for each modified prompt whose version was not bumped.
    """
    issues: list[Issue] = []
    head = project.prompts()
    for change in changed_prompts(project, base_ref):
        if change.status != "modified":
            continue
        prompt = head[change.name]
        where = prompt.path or change.name
        if change.mixed:
            issues.append(
                Issue(
                    file=where,
                    line=prompt.line_of("model"),
                    field="model",
                    message=f"prompt {change.name!r} " + MIXED_CHANGE_MESSAGE.format(ref=base_ref),
                )
            )
        if change.base_version == change.head_version:
            issues.append(
                Issue(
                    file=where,
                    line=prompt.line_of("version"),
                    field="version",
                    severity="warning",
                    message=f"prompt {change.name!r} changed since {base_ref} but its version "
                    f"is still {change.head_version}; bump it so reports tell them apart",
                )
            )
    return issues


async def arun_baseline_ref(
    project: Project,
    suite: str,
    ref: str,
    options: EvalOptions | None = None,
    *,
    adapters: EvalAdapters[Any],
) -> EvalReport:
    """Evaluate ``suite`` with its prompt as it was at git ``ref`` (the baseline side).

    Datasets, providers and the cache are the working tree's, so only the prompt
    differs between this run and the head run — and unchanged requests hit the cache.
    ``adapters`` builds the cache and providers (see
    :func:`~releasegate.evals.runner.arun_eval`).

    Raises:
        UsageError: when the suite has no prompt, or the prompt did not exist at ``ref``.
    """
    from releasegate.evals.runner import EvalOptions, arun_eval

    suite_cfg = project.suite(suite)
    if suite_cfg.prompt is None:
        raise UsageError(
            f"suite {suite!r} has no prompt, so there is nothing at {ref!r} to compare; "
            "use --baseline REPORT.json instead"
        )
    base_prompts = prompts_at_ref(project, ref)
    prompt = base_prompts.get(suite_cfg.prompt)
    if prompt is None:
        raise UsageError(
            f"prompt {suite_cfg.prompt!r} (suite {suite!r}) did not exist at {ref!r}; "
            "there is no baseline to compare against"
        )
    opts = dataclasses.replace(options or EvalOptions(), prompt_override=prompt)
    return await arun_eval(project, suite, opts, adapters=adapters)
