"""Every gate rule, and how they merge into one verdict.

* absolute rules on a report's summary and their defaults: :func:`apply_gate`
  (``min_score``, ``min_pass_rate``, tag and check floors, budgets; the default rule
  :data:`ALL_CASES_PASS` and the default unmeasured budget);
* rules over repeated runs: :func:`pass_k_rule` (``min_pass_repeats``), :func:`flaky_cases`,
  both through :func:`repeat_rules`;
* regression rules versus a baseline and where they come from: :func:`regression_rules`,
  :func:`choose_rules`, :func:`recorded_gate`;
* the merge of a head gate with a comparison's rules: :func:`with_comparison`,
  :func:`merge_gate`.

No configuration turns evident failure green: see ``docs/ci.md``, "Gate defaults".
"""

from __future__ import annotations

from releasegate.evals.gate._absolute import (
    ALL_CASES_PASS,
    DEFAULT_REGRESSION_RULE,
    DEFAULT_UNMEASURED_BUDGET,
    apply_gate,
    has_quality_rule,
    has_regression_rule,
    unmeasured_limit,
)
from releasegate.evals.gate._merge import merge_gate, with_comparison
from releasegate.evals.gate._regression import (
    RuleChoice,
    RuleSource,
    choose_rules,
    recorded_gate,
    regression_rules,
)
from releasegate.evals.gate._repeats import flaky_cases, pass_k_rule, repeat_rules

__all__ = [
    "ALL_CASES_PASS",
    "DEFAULT_REGRESSION_RULE",
    "DEFAULT_UNMEASURED_BUDGET",
    "RuleChoice",
    "RuleSource",
    "apply_gate",
    "choose_rules",
    "flaky_cases",
    "has_quality_rule",
    "has_regression_rule",
    "merge_gate",
    "pass_k_rule",
    "recorded_gate",
    "regression_rules",
    "repeat_rules",
    "unmeasured_limit",
    "with_comparison",
]
