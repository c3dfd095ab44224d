"""The scale benchmark's machinery on tiny sizes, so that it keeps working.

No figure is checked: only that every part ran, on real PostgreSQL and Redis servers of
its own, and that the tables are written.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.scale import load, run

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:1/v1/chat/completions
  2 threads and 4 connections
  Latency Distribution
     50%   21.50ms
     75%   23.00ms
     90%   25.00ms
     99%    1.20s
  412 requests in 2.00s, 150.00KB read
  Non-2xx or 3xx responses: 3
Requests/sec:    205.50
"""


def test_wrk_output_is_read_and_two_gateways_loads_are_combined() -> None:
    one = load._wrk_parse(WRK_OUTPUT)
    assert (one.requests, one.p50, one.p99, one.non2xx) == (412, 21.5, 1200.0, 3)
    both = load._combine([one, one])
    assert (both.requests, both.rps, both.p99) == (824, 411.0, 1200.0)


def test_quick_run_measures_every_mode_and_size(tmp_path: Path) -> None:
    doc = run.run(
        sizes=[200],
        seconds=1,
        conns=2,
        stores=["sqlite", "postgres"],
        loader="python",
        work=tmp_path,
    )
    modes = [(p["mode"], p["gateways"]) for p in doc["pipeline"]]
    assert modes == [
        ("embedded (SQLite + SQLite queue)", 1),
        ("PostgreSQL + Redis", 1),
        ("PostgreSQL + Redis", 2),
    ]
    for p in doc["pipeline"]:
        assert p["requests"] > 0 and p["non2xx"] == 0
        assert p["drain_s"] is not None, p["notes"]
        assert p["scored"] == p["recorded"] >= p["requests"]
        # the canary was promoted halfway through the load; every record is accounted for
        assert p["canary"] == "promote" and p["changed_at_s"] == 0.5
        assert p["submitted"] == p["written"] == p["recorded"]
        assert (p["dropped"], p["rejected"], p["queued"], p["lost"]) == (0, 0, 0, 0)
        assert p["analysis_ms"] is not None
    assert [(g["store"], g["rows"]) for g in doc["growth"]] == [
        ("sqlite", 200),
        ("postgres", 200),
    ]
    for g in doc["growth"]:
        assert set(g["ms"]) == {
            "canary analysis",
            "page: overview",
            "page: feature",
            "page: explorer",
            "page: explorer, feature + version",
        }
    readme = tmp_path / "README.md"
    readme.write_text(f"# t\n\n{run.BEGIN}\nold\n{run.END}\n\nafter\n")
    run.write_readme(run.tables(doc), readme)
    text = readme.read_text()
    assert "old" not in text and "| PostgreSQL + Redis | 2 |" in text and text.endswith("after\n")
