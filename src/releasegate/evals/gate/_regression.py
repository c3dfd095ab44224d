"""Gate rules on regression versus a baseline, and where they come from.

:func:`choose_rules` picks the rules of a comparison, in order: command-line flags, a
suite of the config, the gate recorded in the head report, else the default. Whatever
the source, a gate without a regression rule that can fail gets the default rule: fail on
a statistically evident drop (the bootstrap interval's upper bound below 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from releasegate.config import GateConfig
from releasegate.errors import ReportFormatError
from releasegate.evals.gate._absolute import DEFAULT_REGRESSION_RULE
from releasegate.results.comparison import ALPHA, Comparison
from releasegate.results.report import EvalReport, RuleResult

__all__ = ["RuleChoice", "RuleSource", "choose_rules", "recorded_gate", "regression_rules"]

RuleSource = Literal["flags", "suite", "report", "default"]


@dataclass(frozen=True)
class RuleChoice:
    """The gate a comparison applies, where it came from, and one sentence saying so."""

    gate: GateConfig
    source: RuleSource
    description: str

    def stamp(self, comparison: Comparison) -> Comparison:
        """``comparison`` with ``rule_source`` and ``rules_from`` set from this choice;
        ``rules_from`` also names the default regression rule when it applied."""
        text = self.description
        if self.source != "default" and any(r.default for r in comparison.rules):
            text += f", which gives no regression rule that can fail: {DEFAULT_REGRESSION_RULE}"
        return comparison.model_copy(update={"rule_source": self.source, "rules_from": text})


def recorded_gate(head: EvalReport, *, source: str = "head report") -> GateConfig | None:
    """The gate configuration recorded in ``head`` (``gate.config``), if any.

    Raises:
        ReportFormatError: the recorded configuration is not a valid gate.
    """
    if head.gate is None or head.gate.config is None:
        return None
    try:
        return GateConfig.model_validate(head.gate.config)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ReportFormatError(
            f"{source}: invalid recorded gate at gate.config.{loc}: {first['msg']} "
            "(use --suite to apply the rules of a suite instead)"
        ) from exc


def choose_rules(
    *,
    head: EvalReport,
    max_regression: float | None = None,
    critical_tags: list[str] | None = None,
    suite: tuple[str, GateConfig] | None = None,
) -> RuleChoice:
    """The rules of a comparison: flags, else ``suite``, else the head report's gate.

    Flags override the same rule of the suite's (or, without a suite, the recorded)
    gate; critical tags add up. When no source gives a regression rule that can fail,
    the default (a statistically evident drop fails) applies and the description says so.

    Args:
        head: the head report; its recorded ``gate.config`` is the third source.
        max_regression: the ``--max-regression`` flag.
        critical_tags: the ``--critical-tag`` flags.
        suite: ``(name, gate)`` of the ``--suite`` given.

    Raises:
        ReportFormatError: the recorded gate is needed and invalid.
    """
    tags = list(critical_tags or [])
    flags = max_regression is not None or bool(tags)
    base: GateConfig | None
    if suite is not None:
        base, where = suite[1], f"suite {suite[0]!r} of the config"
    else:
        base = recorded_gate(head)
        where = f"the gate recorded in the head report (suite {head.identity.suite!r})"
    source: RuleSource
    if flags:
        gate = base or GateConfig()
        update: dict[str, object] = {}
        given = []
        if max_regression is not None:
            update["max_regression"] = max_regression
            given.append(f"--max-regression {max_regression:g}")
        if tags:
            update["critical_tags"] = list(dict.fromkeys([*gate.critical_tags, *tags]))
            given += [f"--critical-tag {t}" for t in tags]
        gate = gate.model_copy(update=update)
        source, text = "flags", "command-line flags (" + ", ".join(given) + ")"
        if base is not None:
            text += f", other rules from {where}"
    elif base is not None:
        gate, source, text = base, ("suite" if suite is not None else "report"), where
    else:
        return RuleChoice(
            GateConfig(),
            "default",
            "no rule given (no flags, no --suite, no gate recorded in the head report): "
            + DEFAULT_REGRESSION_RULE,
        )
    return RuleChoice(gate, source, "rules from " + text)


def regression_rules(
    comparison: Comparison, gate: GateConfig
) -> tuple[list[RuleResult], list[str]]:
    """Gate rules on regression versus the baseline, and warnings.

    * ``max_regression``: fails when the bootstrap interval's upper bound is below
      ``-max_regression`` (the evidence says the drop is larger than allowed); when the
      interval straddles ``-max_regression`` the rule passes with a warning that the
      interval is too wide to decide.
    * ``critical_tag:<tag>``: fails when a critical tag's score dropped with a
      Holm-adjusted p-value below 0.05.
    * ``max_cost_increase`` / ``max_latency_increase``: relative increase of the mean
      cost / mean latency per paired case.
    * the default, when no rule on the score was evaluated (no ``max_regression`` below
      1, no critical tag with paired cases): ``max_regression`` 0 (``default: true``),
      that is, fail when the whole interval is below 0 — a statistically evident drop.

    Returns:
        ``(rules, warnings)``; a configured rule is only present when the gate sets it.
    """
    rules: list[RuleResult] = []
    warnings: list[str] = []
    ov = comparison.overall
    iv = ov.bootstrap
    ci = f"[{iv.low:+.3f}, {iv.high:+.3f}]"
    if gate.max_regression is not None and gate.max_regression < 1:
        floor = -gate.max_regression
        failed = iv.high < floor
        rules.append(
            RuleResult(
                rule="max_regression",
                passed=not failed,
                actual=iv.high,
                threshold=floor,
                message=(
                    f"score delta {ov.delta:+.3f}, {iv.confidence:.0%} CI {ci}; "
                    + (
                        f"the whole interval is below {floor:+.3f}"
                        if failed
                        else f"upper bound is at or above {floor:+.3f}"
                    )
                ),
            )
        )
        if not failed and iv.low < floor:
            mde = f"; this dataset detects about {ov.mde:.3f}" if ov.mde is not None else ""
            warnings.append(
                f"inconclusive: the score delta's interval {ci} straddles the allowed "
                f"regression {floor:+.3f}, too wide to decide{mde} — add cases or repeats"
            )
    slices = {s.name: s for s in comparison.by_tag}
    for tag in gate.critical_tags:
        s = slices.get(tag)
        if s is None:
            warnings.append(f"critical tag {tag!r} has no paired cases in this comparison")
            continue
        dropped = s.significant_drop
        where = (
            f"[{s.low:+.3f}, {s.high:+.3f}]" if s.low is not None and s.high is not None else "n/a"
        )
        holm = f"{s.p_holm:.3g}" if s.p_holm is not None else "n/a"
        rules.append(
            RuleResult(
                rule=f"critical_tag:{tag}",
                passed=not dropped,
                actual=s.delta,
                threshold=0.0,
                message=f"tag {tag!r} delta {s.delta:+.3f} (n={s.n}, 95% CI {where}, "
                f"Holm p={holm})" + ("; significant regression" if dropped else ""),
            )
        )
        if not dropped and s.delta < 0:
            warnings.append(
                f"critical tag {tag!r} dropped by {-s.delta:.3f} but not significantly (n={s.n})"
            )
    if not rules:  # no regression rule on the score was evaluated
        failed = iv.high < 0
        rules.insert(
            0,
            RuleResult(
                rule="max_regression",
                passed=not failed,
                actual=iv.high,
                threshold=0.0,
                message=(
                    f"{DEFAULT_REGRESSION_RULE} — score delta {ov.delta:+.3f}, "
                    f"{iv.confidence:.0%} CI {ci}; "
                    + (
                        "the whole interval is below 0"
                        if failed
                        else "upper bound is at or above 0"
                    )
                ),
                default=True,
            ),
        )
    for rule, res, limit in (
        ("max_cost_increase", comparison.cost_per_case_usd, gate.max_cost_increase),
        ("max_latency_increase", comparison.latency_mean_ms, gate.max_latency_increase),
    ):
        if limit is None:
            continue
        if res.change is None:
            warnings.append(f"{rule}: no baseline value to compare against; rule skipped")
            continue
        rules.append(
            RuleResult(
                rule=rule,
                passed=res.change <= limit,
                actual=res.change,
                threshold=limit,
                message=f"{res.change:+.1%} versus baseline (allowed +{limit:.0%})",
            )
        )
    mc = comparison.mcnemar
    if mc.pass_to_fail > mc.fail_to_pass and mc.p_mid < ALPHA:
        warnings.append(
            f"McNemar: {mc.pass_to_fail} case(s) went from pass to fail and "
            f"{mc.fail_to_pass} from fail to pass (mid-p {mc.p_mid:.3g})"
        )
    if comparison.flaky_head:
        warnings.append(
            f"{len(comparison.flaky_head)} flaky case(s) in head (repeats disagree): "
            + ", ".join(comparison.flaky_head[:10])
        )
    if comparison.n_base_only or comparison.n_head_only:
        warnings.extend(comparison.notes[:1])
    return rules, warnings
