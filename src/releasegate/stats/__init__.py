"""Pure statistics on plain numbers: paired comparisons and anytime-valid sequential tests.

* :mod:`~releasegate.stats.paired` — paired bootstrap and t intervals, McNemar, Holm,
  minimum detectable effect (base versus head on the same cases);
* :mod:`~releasegate.stats.sequential` — confidence sequences and e-values that stay
  valid however often they are looked at (canary analysis).

Nothing here knows about reports, runs or deployments. numpy and scipy load on first
use of a name, not on ``import releasegate.stats``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from releasegate._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from releasegate.stats.paired import (
        Interval,
        McNemarResult,
        PairedTest,
        holm_adjust,
        mcnemar_test,
        paired_bootstrap_ci,
        paired_mde,
        paired_t_test,
    )
    from releasegate.stats.sequential import MeanBound, diff_bound, mean_bound, srm_p_value

__all__ = [
    "Interval",
    "McNemarResult",
    "MeanBound",
    "PairedTest",
    "diff_bound",
    "holm_adjust",
    "mcnemar_test",
    "mean_bound",
    "paired_bootstrap_ci",
    "paired_mde",
    "paired_t_test",
    "srm_p_value",
]

_PAIRED = "releasegate.stats.paired"
_SEQUENTIAL = "releasegate.stats.sequential"
_WHERE: dict[str, str] = {
    "Interval": _PAIRED,
    "McNemarResult": _PAIRED,
    "PairedTest": _PAIRED,
    "holm_adjust": _PAIRED,
    "mcnemar_test": _PAIRED,
    "paired_bootstrap_ci": _PAIRED,
    "paired_mde": _PAIRED,
    "paired_t_test": _PAIRED,
    "MeanBound": _SEQUENTIAL,
    "diff_bound": _SEQUENTIAL,
    "mean_bound": _SEQUENTIAL,
    "srm_p_value": _SEQUENTIAL,
}

__getattr__, __dir__ = _lazy_exports(__name__, _WHERE, __all__)
