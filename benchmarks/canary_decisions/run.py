"""Canary decisions under continuous monitoring: releasegate vs naive rule vs Mann-Whitney.

Each simulated rollout looks after every 50 canary observations, up to 5,000, with the
incumbent at 19x the canary's volume. releasegate's rule is the real
``releasegate.analyze_canary`` on running sufficient statistics (``ArmStats``); the
baselines see the same data. See README.md for the method and the results.

Run: ``python benchmarks/canary_decisions/run.py --runs 1000``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from releasegate import CanaryPolicy, Observation, analyze_canary
from releasegate.canary import ArmStats

LOOK, LOOKS, RATIO = 50, 100, 19
VALUES = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
P_INC = np.array([0.05, 0.10, 0.15, 0.30, 0.40])  # mean 0.725
P_WORSE = np.array([0.085, 0.145, 0.185, 0.275, 0.31])  # mean 0.645 (-0.08)
P_SLIGHT = np.array([0.065, 0.115, 0.16, 0.295, 0.365])  # mean 0.695 (-0.03)
BETA_INC, BETA_WORSE = (6.0, 2.0), (5.36, 2.64)  # means 0.75 and 0.67 (-0.08)
COST_MEAN, COST_SIGMA = 0.002, 0.5  # lognormal cost per request, USD
Z98 = float(sps.norm.ppf(0.99))  # two-sided 98% test, "worse" side
BINS = 1000  # beta scores are ranked through 1,000 bins (ties within a bin)


@dataclass
class Scenario:
    name: str
    scores: str  # "beta" or "discrete"
    worse: bool = False
    slight: bool = False  # discrete only: -0.03 (tuning row)
    err_c: float = 0.01
    cost_c: float = 1.0


SCENARIOS = [
    Scenario("A/A, beta scores", "beta"),
    Scenario("A/A, discrete scores", "discrete"),
    Scenario("quality -0.08, beta", "beta", worse=True),
    Scenario("quality -0.08, discrete", "discrete", worse=True),
    Scenario("errors 1% -> 3%", "beta", err_c=0.03),
    Scenario("cost +60%", "beta", cost_c=1.6),
]
EXTRA = [Scenario("quality -0.03, discrete", "discrete", slight=True)]


def _block(rng: np.random.Generator, sc: Scenario, canary: bool, r: int, n: int) -> dict:
    """Sums of one look's new observations for r runs (n observations each)."""
    if sc.scores == "beta":
        a, b = BETA_WORSE if (canary and sc.worse) else BETA_INC
        x = rng.beta(a, b, size=(r, n))
        s, q = x.sum(1), (x * x).sum(1)
        hist = np.minimum((x * BINS).astype(np.int64), BINS - 1)
        h = np.zeros((r, BINS), np.int64)
        np.add.at(h, (np.repeat(np.arange(r), n), hist.ravel()), 1)
        passes = (x >= 0.5).sum(1)
    else:
        probs = P_WORSE if sc.worse else P_SLIGHT if sc.slight else P_INC
        h = rng.multinomial(n, probs if canary else P_INC, size=r)
        s, q, passes = h @ VALUES, h @ VALUES**2, h[:, 2:].sum(1)
    p_err = sc.err_c if canary else 0.01
    err = rng.binomial(n, p_err, size=r)
    mu = np.log(COST_MEAN * (sc.cost_c if canary else 1.0)) - COST_SIGMA**2 / 2
    cost = rng.lognormal(mu, COST_SIGMA, size=(r, n))
    return {"s": s, "q": q, "h": h, "err": err, "pass": passes,
            "c": cost.sum(1), "cc": (cost * cost).sum(1)}  # fmt: skip


def _mwu_worse(hc: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mann-Whitney (tie-corrected normal approximation): canary lower at 98%."""
    nc, ni = hc.sum(1).astype(float), hi.sum(1).astype(float)
    below = np.cumsum(hi, 1) - hi
    u = (hc * (below + 0.5 * hi)).sum(1)
    t = (hc + hi).astype(float)
    n = nc + ni
    var = nc * ni / 12.0 * ((n + 1) - (t**3 - t).sum(1) / (n * (n - 1)))
    z = (u - nc * ni / 2.0) / np.sqrt(np.maximum(var, 1e-12))
    return z < -Z98


def simulate(sc: Scenario, runs: int, seed: int, policy: CanaryPolicy) -> dict:
    rng = np.random.default_rng(seed)
    acc = {arm: {k: 0 for k in ("n", "s", "q", "h", "err", "pass", "c", "cc")} for arm in "ci"}
    keys = ("rg", "alert", "advance", "naive", "mwu", "naive_err", "mwu_err")
    first = {k: np.full(runs, -1) for k in keys}
    by_signal: dict[str, int] = {}
    for look in range(1, LOOKS + 1):
        for arm, n in (("c", LOOK), ("i", LOOK * RATIO)):
            blk = _block(rng, sc, arm == "c", runs, n)
            acc[arm]["n"] += n
            for k, v in blk.items():
                acc[arm][k] = acc[arm][k] + v
        nobs = look * LOOK
        c, i = acc["c"], acc["i"]
        # naive: mean drop > 0.05 after >= 100 samples; on scores and on success rate
        if nobs >= 100:
            drop = c["s"] / c["n"] - i["s"] / i["n"]
            edrop = i["err"] / i["n"] - c["err"] / c["n"]
            for key, hit in (("naive", drop < -0.05), ("naive_err", edrop > 0.05)):
                first[key][(first[key] < 0) & hit] = nobs
        for key, hit in (
            ("mwu", _mwu_worse(c["h"], i["h"])),
            ("mwu_err", _mwu_worse(np.stack([c["err"], c["n"] - c["err"]], 1),
                                   np.stack([i["err"], i["n"] - i["err"]], 1))),
        ):  # fmt: skip
            first[key][(first[key] < 0) & hit] = nobs
        for r in np.flatnonzero(first["rg"] < 0):
            arms = [
                ArmStats(
                    count=a["n"],
                    errors=int(a["err"][r]),
                    scored=a["n"],
                    score_sum=float(a["s"][r]),
                    score_sumsq=float(a["q"][r]),
                    passes=int(a["pass"][r]),
                    cost_n=a["n"],
                    cost_sum=float(a["c"][r]),
                    cost_sumsq=float(a["cc"][r]),
                )
                for a in (i, c)
            ]
            d = analyze_canary(arms[0], arms[1], policy)
            if d.action == "rollback":
                first["rg"][r] = nobs
                for name, state in d.signals.items():
                    if state == "fail" and name != "cost":
                        by_signal[name] = by_signal.get(name, 0) + 1
            for action in ("alert", "advance"):
                if d.action == action and first[action][r] < 0:
                    first[action][r] = nobs
    return {**{k: v.tolist() for k, v in first.items()}, "by_signal": by_signal}


def summarise(first: list[int], within: int) -> tuple[float, float | None]:
    hits = [f for f in first if 0 < f <= within]
    return len(hits) / len(first), (statistics.fmean(hits) if hits else None)


def decision_latency() -> dict:
    rng = np.random.default_rng(1)
    scores = rng.beta(6, 2, 1_000_000)
    t0 = time.perf_counter()
    inc = ArmStats.from_observations([Observation(float(x)) for x in scores[:950_000]])
    can = ArmStats.from_observations([Observation(float(x)) for x in scores[950_000:]])
    build = time.perf_counter() - t0
    one = ArmStats.from_observations([Observation(0.7, latency_ms=120.0)])
    t0 = time.perf_counter()
    for _ in range(1000):
        can = can.merge(one)
    merge = (time.perf_counter() - t0) / 1000
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        analyze_canary(inc, can)
        times.append(time.perf_counter() - t0)
    return {"fold_1M_s": build, "merge_ms": merge * 1e3,
            "analyze_median_ms": statistics.median(times) * 1e3,
            "analyze_p99_ms": sorted(times)[int(0.99 * len(times))] * 1e3}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-star", type=float, default=None)
    ap.add_argument("--only", default=None, help="substring of the scenario names to run")
    ap.add_argument("--extra", action="store_true", help="add the -0.03 tuning row")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    policy = CanaryPolicy() if args.n_star is None else CanaryPolicy(n_star=args.n_star)
    t0 = time.perf_counter()
    rows = []
    print("| scenario | releasegate | mean obs | naive | mean obs | Mann-Whitney 98% | mean obs "
          "| releasegate alerts | releasegate advances | mean obs |")  # fmt: skip
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for k, sc in enumerate(SCENARIOS + (EXTRA if args.extra else [])):
        if args.only and args.only not in sc.name:
            continue
        first = simulate(sc, args.runs, args.seed + k, policy)
        within = 2000 if (sc.worse or sc.err_c > 0.01) else 5000
        err = sc.err_c > 0.01
        cells = [summarise(first["rg"], within),
                 summarise(first["naive_err" if err else "naive"], within),
                 summarise(first["mwu_err" if err else "mwu"], within)]  # fmt: skip
        alerts = summarise(first["alert"], 5000)
        advances = summarise(first["advance"], 5000)
        row = {"scenario": sc.name, "within": within, "runs": args.runs, "cells": cells,
               "alerts": alerts, "advances": advances, "first": first}  # fmt: skip
        rows.append(row)
        fmt = " | ".join(f"{100 * p:.1f}% | {'-' if m is None else f'{m:.0f}'}" for p, m in cells)
        print(
            f"| {sc.name} (within {within}) | {fmt} | {100 * alerts[0]:.1f}% | "
            f"{100 * advances[0]:.1f}% | {'-' if advances[1] is None else f'{advances[1]:.0f}'} |",
            flush=True,
        )
        print(f"<!-- releasegate rollbacks by signal: {first['by_signal']} -->", flush=True)
    lat = {} if args.no_latency else decision_latency()
    print(json.dumps(lat))
    elapsed = time.perf_counter() - t0
    print(f"{args.runs} runs per row, n_star={policy.n_star}, {elapsed:.0f} s, "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rows": rows, "latency": lat, "n_star": policy.n_star,
                       "runs": args.runs, "seconds": elapsed}, f)  # fmt: skip


if __name__ == "__main__":
    main()
