"""Gate decisions under sampling noise: how often is a PR wrongly blocked, and how often
is a real regression caught?

Each simulated PR evaluates a dataset twice (base and head) with the scripted provider
in nondeterministic mode: case i answers correctly (containing the required element)
with its own probability p_i, drawn once per dataset from Beta(8, 2) (mean 0.8); the
provider's draw is seeded by (seed, case id, repeat), and base and head use different
seeds, as two CI runs would. A "planted regression" makes a share of the cases lose the
required element on head (p = 0). The two reports go through the real
``compare_reports`` / ``regression_rules`` code.

Rules compared:
  releasegate     fail when the bootstrap 95% CI upper bound of the paired delta is
                  below -max_regression (0.02 here, and 0.0)
  naive           block if head mean < base mean - 0.02
  promptfoo-style pass-rate threshold on head only (block if head pass rate < 0.75)

Usage: python benchmarks/gate_decisions/run.py [--prs 1000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from releasegate.config import GateConfig
from releasegate.evals.comparison import compare_reports
from releasegate.llm import ChatRequest
from releasegate.providers.scripted import ScriptedOptions, ScriptedProvider
from releasegate.results.report import CaseResult, EvalReport, Identity, Summary, TokenTotals

REQUIRED = "order A-1001"


def _report(run_id: str, passed: dict[str, bool]) -> EvalReport:
    cases = [
        CaseResult(id=cid, input="q", output="", score=1.0 if ok else 0.0, passed=ok)
        for cid, ok in passed.items()
    ]
    n = len(cases)
    summary = Summary(
        n_cases=n, n_results=n, n_passed=sum(passed.values()),
        n_failed=n - sum(passed.values()), n_errors=0, n_unmeasured=0, n_not_applicable=0,
        mean_score=None, std=None, p10=None, p50=None, p90=None, pass_rate=None,
        latency_mean_ms=None, latency_p95_ms=None, tokens=TokenTotals(), cost_usd=0.0,
    )  # fmt: skip
    return EvalReport(
        run_id=run_id, started_at="", finished_at="", duration_s=0.0,
        identity=Identity(suite="sim", tool_version="bench"), summary=summary, cases=cases,
    )  # fmt: skip


def _run_side(probs: dict[str, float], seed: int) -> dict[str, bool]:
    provider = ScriptedProvider(
        ScriptedOptions(default=f"Your {REQUIRED} ships today.", nondeterministic=probs, seed=seed)
    )
    out = {}
    for cid in probs:
        req = ChatRequest(messages=({"role": "user", "content": "q"},), model="m", case_id=cid)
        out[cid] = REQUIRED in provider.answer(req)
    return out


def simulate(n_cases: int, regressed_share: float, prs: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    names = [
        "releasegate (max_regression 0.02)",
        "releasegate (max_regression 0)",
        "naive (head < base - 0.02)",
        "promptfoo-style (head pass rate < 0.75)",
    ]
    blocked = dict.fromkeys(names, 0)
    gates = {
        "releasegate (max_regression 0.02)": GateConfig(max_regression=0.02),
        "releasegate (max_regression 0)": GateConfig(max_regression=0.0),
    }
    for pr in range(prs):
        p = rng.beta(8, 2, n_cases)
        ids = [f"c{i:03d}" for i in range(n_cases)]
        base_p = dict(zip(ids, p.tolist(), strict=True))
        head_p = dict(base_p)
        n_reg = round(regressed_share * n_cases)
        for cid in rng.choice(ids, n_reg, replace=False):
            head_p[str(cid)] = 0.0  # the required element is gone
        base = _report("b", _run_side(base_p, seed=2 * pr))
        head = _report("h", _run_side(head_p, seed=2 * pr + 1))
        cmp = compare_reports(base, head, seed=pr, n_resamples=4000)
        for name, gate in gates.items():
            high = cmp.overall.bootstrap.high
            blocked[name] += high < -(gate.max_regression or 0.0)
        blocked["naive (head < base - 0.02)"] += (
            cmp.overall.head_mean < cmp.overall.base_mean - 0.02
        )
        blocked["promptfoo-style (head pass rate < 0.75)"] += cmp.head_pass_rate < 0.75
    return {k: v / prs for k, v in blocked.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    scenarios = [
        ("unchanged prompt, 50 cases", 50, 0.0),
        ("unchanged prompt, 200 cases", 200, 0.0),
        ("20% of cases regress, 50 cases", 50, 0.2),
        ("20% of cases regress, 200 cases", 200, 0.2),
        ("5% of cases regress, 50 cases", 50, 0.05),
        ("5% of cases regress, 200 cases", 200, 0.05),
    ]
    t0 = time.perf_counter()
    rows = [(label, simulate(n, share, args.prs, args.seed)) for label, n, share in scenarios]
    rules = list(rows[0][1])
    print("| scenario | " + " | ".join(rules) + " |")
    print("|---|" + "--:|" * len(rules))
    for label, res in rows:
        print(f"| {label} | " + " | ".join(f"{res[r]:.1%}" for r in rules) + " |")
    print(f"\n{args.prs} simulated PRs per scenario, {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
