"""One exception tree for releasegate.

Every error a user can cause carries a message that says where (file, line, case id) and
what is wrong, and maps to a documented process exit code:

* 0 — the gate passed
* 1 — the gate failed
* 2 — bad usage, config, data or report file
* 3 — the run itself failed (for example every case errored)
* 4 — internal error: an unexpected exception (a bug), reported without a traceback
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = [
    "BudgetExceeded",
    "BudgetStoreUnavailable",
    "ConfigError",
    "DatasetError",
    "DeploymentError",
    "ExitCode",
    "IllegalTransition",
    "Issue",
    "NotFound",
    "PromptError",
    "ProviderError",
    "ReleasegateError",
    "ReportFormatError",
    "RunFailed",
    "UsageError",
]


class ExitCode(IntEnum):
    """Process exit codes of the `releasegate` command."""

    PASS = 0
    GATE_FAILED = 1
    USAGE = 2
    RUN_FAILED = 3
    INTERNAL_ERROR = 4


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in a user file: where it is and what is wrong."""

    file: str
    message: str
    line: int | None = None
    case_id: str | None = None
    field: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.case_id is not None:
            parts.append(f"case {self.case_id!r}")
        if self.field:
            parts.append(f"field {self.field!r}")
        prefix = "warning: " if self.severity == "warning" else ""
        return ": ".join(parts) + f": {prefix}{self.message}"


class ReleasegateError(Exception):
    """Base class of every error releasegate raises on purpose."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(ReleasegateError):
    """The command was called wrongly (unknown suite, missing file, bad flag value)."""


class ConfigError(ReleasegateError):
    """A config, prompt or dataset file is invalid. Carries every issue found."""

    def __init__(self, issues: list[Issue] | Issue | str, *, file: str | None = None) -> None:
        if isinstance(issues, str):
            issues = [Issue(file=file or "<config>", message=issues)]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues: list[Issue] = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class DatasetError(ConfigError):
    """A dataset file is invalid."""


class PromptError(ConfigError):
    """A prompt file is invalid or its template fails to render."""


class ReportFormatError(ReleasegateError):
    """A report file is corrupt or of an unknown schema version."""


class ProviderError(ReleasegateError):
    """A provider call failed.

    Attributes:
        retryable: whether the engine may try again (429, 5xx, timeouts, connection errors).
        retry_after: seconds the server asked us to wait (``Retry-After``), if any.
        status: HTTP status when there was one.
    """

    exit_code = ExitCode.RUN_FAILED

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class BudgetExceeded(ReleasegateError):
    """The run's dollar or token budget is spent; the engine stops cleanly."""

    exit_code = ExitCode.RUN_FAILED


class BudgetStoreUnavailable(ReleasegateError):
    """The gateway's shared token-budget store (Redis) did not answer."""

    exit_code = ExitCode.RUN_FAILED


class RunFailed(ReleasegateError):
    """The run produced no usable result (for example every case errored)."""

    exit_code = ExitCode.RUN_FAILED


class DeploymentError(ReleasegateError):
    """A deployment operation was refused."""


class IllegalTransition(DeploymentError):
    """A status change that the deployment state machine does not allow."""


class NotFound(DeploymentError):
    """A deployment, feature or token does not exist."""
