"""``releasegate dashboard serve``: what it prints, and its refusals (exit code 2)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.dashboard.conftest import Dashboard
from tests.e2e.deploy._cli import invoke


def test_serve_prints_where_to_sign_in(dashboard: Dashboard, tmp_path: Path) -> None:
    log = (tmp_path / "dashboard.log").read_text()
    assert f"releasegate dashboard at {dashboard.url}" in log
    assert f"{dashboard.url}/login?token=TOKEN" in log


def test_a_short_or_missing_key_file_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "key"
    short.write_bytes(b"too short")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    r = invoke("dashboard", "serve", "--key-file", str(short), "--db", db)
    assert r.returncode == 2 and "at least 32 bytes, it has 9" in r.stderr
    r = invoke("dashboard", "serve", "--key-file", str(tmp_path / "nope"), "--db", db)
    assert r.returncode == 2 and "cannot read it" in r.stderr


def test_a_missing_database_is_refused(tmp_path: Path) -> None:
    r = invoke("dashboard", "serve", "--db", f"sqlite:///{tmp_path / 'missing.db'}")
    assert r.returncode == 2 and "releasegate db upgrade" in r.stderr + r.stdout


def test_eval_store_refuses_an_unusable_database_before_any_call(tmp_path: Path) -> None:
    """A wrong --db fails with exit 2 before the run: no model call, no report file."""
    import subprocess

    from tests.e2e.deploy._cli import CLI
    from tests.support.project import make_project

    config = make_project(tmp_path / "proj", base_url="http://127.0.0.1:9/v1", n_cases=2)
    out = tmp_path / "r.json"
    bad = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    r = subprocess.run(
        [*CLI, "eval", "-c", str(config), "-s", "pr", "-q", "-o", str(out), "--store", "--db", bad],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "--db: cannot open database" in r.stderr and "Connection refused" in r.stderr
    assert not out.exists()
