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
