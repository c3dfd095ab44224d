"""Scale benchmark: the whole path on the embedded store vs PostgreSQL + Redis, and how
the canary analysis and the dashboard pages grow with the recorded interactions.

    python -m benchmarks.scale.run                      # full run, README table updated
    python -m benchmarks.scale.run --quick              # smoke run: tiny sizes, short loads
    python -m benchmarks.scale.run --sizes 10000,100000 --seconds 10 --conns 32

Starts its own PostgreSQL cluster and Redis server (never the machine's shared ones),
a lean mock upstream (fixed 20 ms answers), then:

1. pipeline: for embedded (SQLite store + SQLite queue) / 1 gateway, PostgreSQL +
   Redis / 1 gateway and PostgreSQL + Redis / 2 gateways, requests/s and p50/p99 added
   latency against calling the upstream directly at the same concurrency, with
   recording on and a worker scoring every request; then the drain (load end to every
   request recorded and scored) and the per-record lag to its score;
2. growth: for each size and store, the canary analysis and dashboard page times.

Writes ``--json`` (default benchmarks/scale/results.json) and, unless ``--no-readme``,
the tables into benchmarks/scale/README.md between the result markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.scale import growth, pipeline
from benchmarks.scale.load import LUA, have_wrk, load

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def machine() -> dict[str, Any]:
    """Facts about the machine and its load right now."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "memory": mem,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def _pg_version(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SHOW server_version")).scalar())
    finally:
        engine.dispose()


def run(
    *,
    sizes: list[int],
    seconds: float,
    conns: int,
    stores: list[str],
    loader: str,
    work: Path,
    canary: str = "promote",
    log: Any = sys.stderr,
) -> dict[str, Any]:
    """Run both parts; return the JSON document."""
    from tests.support.servers import PostgresServer, RedisServer, free_port

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    facts: dict[str, Any] = {"started": started, "before": machine()}
    doc: dict[str, Any] = {
        "settings": {
            "sizes": sizes,
            "seconds": seconds,
            "conns": conns,
            "loader": loader,
            "upstream_delay_ms": 20,
            "worker_threads": 2,
            "canary": canary,
        },
        "machine": facts,
    }
    with ExitStack() as stack:
        pg = stack.enter_context(PostgresServer.running())
        redis = stack.enter_context(RedisServer.running())
        facts["postgresql"] = _pg_version(pg.url)
        up_port = free_port()
        lean = ["-m", "tests.support.lean_openai_server", "--delay-ms", "20"]
        up = stack.enter_context(
            pipeline.process(
                [pipeline.PY, *lean, "--port", str(up_port)], work / "upstream.log", pipeline.ROOT
            )
        )
        from tests.support.servers import port_open

        deadline = time.monotonic() + 30
        while not port_open(up_port) and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.1)
        upstream = f"http://127.0.0.1:{up_port}/v1"
        lua = work / "req.lua"
        lua.write_text(LUA)
        load([upstream[:-3]], min(8, conns), 1, lua, loader)  # warm-up
        direct = load([upstream[:-3]], conns, seconds, lua, loader)
        print(f"direct: {direct}", file=log, flush=True)

        def pg_db(name: str) -> str:
            import sqlalchemy as sa

            admin = sa.create_engine(pg.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
            admin.dispose()
            return pg.url.rsplit("/", 1)[0] + f"/{name}"

        modes = [
            pipeline.Mode(
                "embedded (SQLite + SQLite queue)",
                f"sqlite:///{work / 'embedded' / 'rg.sqlite'}",
                None,
                1,
            ),
            pipeline.Mode(
                "PostgreSQL + Redis", pg_db("rg_pipe1"), redis.url, 1, redis_url=redis.url
            ),
            pipeline.Mode(
                "PostgreSQL + Redis", pg_db("rg_pipe2"), redis.url, 2, redis_url=redis.url
            ),
        ]
        results = []
        for i, mode in enumerate(modes):
            folder = work / ("embedded" if i == 0 else f"pg{mode.gateways}")
            if i == 0:
                folder.mkdir(parents=True)
                folder = folder / "project"
            r = pipeline.run_mode(
                mode,
                folder,
                upstream,
                conns=conns,
                seconds=seconds,
                direct=direct,
                lua=lua,
                loader=loader,
                canary=canary,
            )
            print(f"{mode.label} x{mode.gateways}: {r.to_json()}", file=log, flush=True)
            results.append(r)
        doc["direct"] = {"rps": round(direct.rps, 1), "p50_ms": direct.p50, "p99_ms": direct.p99}
        doc["pipeline"] = [r.to_json() for r in results]
        facts["after_pipeline"] = machine()["loadavg"]

        doc["growth"] = []
        for rows in sizes:
            for store in stores:
                ctx = (
                    growth.sqlite_store(work, rows)
                    if store == "sqlite"
                    else growth.postgres_store(pg.url)
                )
                with ctx as url:
                    g = growth.run_size(store, url, rows)
                print(f"growth: {g.to_json()}", file=log, flush=True)
                doc["growth"].append(g.to_json())
        facts["after"] = machine()["loadavg"]
    return doc


def _change_words(canary: str, seconds: float) -> str:
    if canary == "hold":
        return "the canary (`v2`, 50 %) is left alone."
    done = "promoted" if canary == "promote" else "rolled back"
    return f"the canary (`v2`, 50 %) is {done} {seconds / 2:g} s into each load."


def _records(r: dict[str, Any]) -> str:
    if "written" not in r:  # a result from before these counters
        return "-"
    return f"{r['written']} / {r['dropped']} / {r['rejected']} / {r['lost']}"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def tables(doc: dict[str, Any]) -> str:
    """The Markdown tables of one run."""
    m = doc["machine"]
    before = m["before"]
    avg = before["loadavg"]
    loaded = avg[0] > 0.5 * (before["cpus"] or 1)
    s = doc["settings"]
    lines = [
        f"Run started {m['started']}: {before['cpus']} CPUs "
        f"({before['cpu']}), {before['memory']}, Python {before['python']}, SQLite "
        f"{before['sqlite']}, PostgreSQL {m.get('postgresql', '?')}. Load average (1/5/15 "
        f"min) {avg[0]}/{avg[1]}/{avg[2]} at the start, "
        f"{m['after_pipeline'][0]} after the pipeline part, {m['after'][0]} at the end"
        + (
            ": **a loaded, shared machine** (other jobs were running), so read the ratios, "
            "not the absolute figures."
            if loaded
            else "."
        ),
        "",
        f"Pipeline: {s['conns']} connections in all, {s['seconds']} s per mode ({s['loader']}), "
        f"upstream answering in {s['upstream_delay_ms']} ms, one worker with "
        f"{s['worker_threads']} threads scoring every request; "
        + _change_words(s.get("canary", "hold"), s["seconds"])
        + " Direct to the upstream: "
        f"{doc['direct']['rps']:.0f} req/s, p50 {doc['direct']['p50_ms']:.1f} ms, "
        f"p99 {doc['direct']['p99_ms']:.1f} ms.",
        "",
        "| store + queue | gateways | req/s | vs embedded | added p50 ms | added p99 ms "
        "| non-2xx | drain s | lag p50 s | lag p99 s | scored / stored / answered "
        "| records written / dropped / rejected / lost | analysis ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    base = doc["pipeline"][0]["rps"]
    for r in doc["pipeline"]:
        drain = f"{r['drain_s']:.1f}" if r["drain_s"] is not None else "not drained"
        lag50 = f"{r['lag_p50_s']:.2f}" if r["lag_p50_s"] is not None else "-"
        lag99 = f"{r['lag_p99_s']:.2f}" if r["lag_p99_s"] is not None else "-"
        lines.append(
            f"| {r['mode']} | {r['gateways']} | {r['rps']:.0f} | {_ratio(r['rps'], base)} "
            f"| {r['added_p50_ms']:+.1f} | {r['added_p99_ms']:+.1f} | {r['non2xx']} | {drain} "
            f"| {lag50} | {lag99} | {r['scored']} / {r['recorded']} / {r['submitted']} "
            f"| {_records(r)} | {r['analysis_ms']:.1f} |"
        )
    notes = [
        f"- {r['mode']}, {r['gateways']} gateway(s): {n}"
        for r in doc["pipeline"]
        for n in r["notes"]
    ]
    if notes:
        lines += ["", *notes]
    lines += ["", "Growth (median of five after a warm-up, ms; worst in brackets):", ""]
    keys = list(doc["growth"][0]["ms"]) if doc["growth"] else []
    lines.append("| store | interactions | seeded in s | " + " | ".join(keys) + " |")
    lines.append("|---|---|---|" + "---|" * len(keys))
    for g in doc["growth"]:
        cells = [f"{g['ms'][k]['median']:.1f} ({g['ms'][k]['max']:.0f})" for k in keys]
        lines.append(
            f"| {g['store']} | {g['rows']:,} | {g['seed_s']:.0f} | " + " | ".join(cells) + " |"
        )
    by_store: dict[str, list[dict[str, Any]]] = {}
    for g in doc["growth"]:
        by_store.setdefault(g["store"], []).append(g)
    ratios = []
    for store, gs in by_store.items():
        if len(gs) > 1:
            lo, hi = gs[0], gs[-1]
            parts = [f"{k} x{_ratio(hi['ms'][k]['median'], lo['ms'][k]['median'])}" for k in keys]
            ratios.append(f"- {store}, {hi['rows']:,} vs {lo['rows']:,}: " + ", ".join(parts))
    if ratios:
        lines += ["", "Growth ratios (largest size's median over the smallest's):", "", *ratios]
    return "\n".join(lines)


def write_readme(text: str, readme: Path = HERE / "README.md") -> None:
    """Replace the part of the README between the result markers with ``text``."""
    doc = readme.read_text()
    head, rest = doc.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 2 s loads")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--loader", choices=("wrk", "python"), default=None)
    ap.add_argument(
        "--canary",
        choices=pipeline.CANARY,
        default="promote",
        help="what happens to the canary halfway through each load (promote)",
    )
    ap.add_argument("--json", type=Path, default=HERE / "results.json")
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    seconds, conns = args.seconds, args.conns
    if args.quick:
        sizes, seconds, conns = [300, 1000], 2, 4
    # SIGTERM (and SIGINT even when it was ignored) end the run through the cleanups:
    # the servers and processes it started are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    loader = args.loader or ("wrk" if have_wrk() else "python")
    with tempfile.TemporaryDirectory(prefix="rg-scale-") as tmp:
        doc = run(
            sizes=sizes,
            seconds=seconds,
            conns=conns,
            stores=args.stores.split(","),
            loader=loader,
            work=Path(tmp),
            canary=args.canary,
        )
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    text = tables(doc)
    print(text)
    if not args.no_readme:
        write_readme(text)


if __name__ == "__main__":
    main()
