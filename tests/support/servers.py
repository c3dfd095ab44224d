"""Private PostgreSQL and Redis servers that a test may stop, kill and restart.

The shared servers (PostgreSQL on 5432, Redis on 6379) must never be stopped, so fault
tests start their own: :class:`PostgresServer` runs ``initdb`` in a new temporary folder
and ``pg_ctl`` on a free port; :class:`RedisServer` runs ``redis-server`` on a free port
without persistence. Both work as a normal user and as root (PostgreSQL refuses to run
as root: its commands then run through ``runuser -u postgres`` in a folder that user
owns). When the binaries are missing the test is skipped, or fails under ``CI=true``.

    with PostgresServer.running() as pg, RedisServer.running() as redis:
        pg.url, redis.url
        pg.stop(); pg.start()        # a clean stop, then the same cluster again
        redis.kill(); redis.start()  # SIGKILL, then the same port again (empty)
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "RedisServer", "free_port", "port_open"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _missing(what: str) -> None:
    msg = f"{what} (needed by this fault test)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(msg + "; CI=true: it must run")
    pytest.skip(msg)


def _wait(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (read from /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(Path(stat).parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class PostgresServer:
    """A PostgreSQL cluster of its own in a temporary folder, on a free port.

    Attributes:
        port: The TCP port on 127.0.0.1.
        url: SQLAlchemy URL of its ``postgres`` database (user ``postgres``, trust auth).
    """

    def __init__(self) -> None:
        self._bin = self._find_bin()
        self._as_root = os.geteuid() == 0
        self.root = Path(tempfile.mkdtemp(prefix="rg-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if self._as_root:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self._run(
            "initdb",
            *("-D", str(self.data), "-U", "postgres", "-A", "trust"),
            *("-E", "UTF8", "--locale=C", "--no-sync"),
        )

    @staticmethod
    def _find_bin() -> Path:
        dirs = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name)
        )
        for d in reversed(dirs):
            if (Path(d) / "pg_ctl").exists():
                return Path(d)
        found = shutil.which("pg_ctl")
        if found is None:
            _missing("no PostgreSQL server binaries (initdb, pg_ctl) found")
        return Path(str(found)).resolve().parent

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self._bin / tool), *args]
        if self._as_root:
            if shutil.which("runuser") is None:
                _missing("running PostgreSQL as root needs runuser")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}\n{log}")

    def start(self) -> None:
        """Start the cluster and wait until it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop it cleanly (``pg_ctl stop -m fast``: sessions are disconnected)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster, then wait until its backends have exited too."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        kids = _children(pid)
        os.kill(pid, signal.SIGKILL)
        _wait("the PostgreSQL backends to exit", lambda: not any(map(_alive, [pid, *kids])))
        # A killed postmaster leaves its lock files, and in a container without an init
        # that reaps orphans its pid stays taken by a zombie: the locks would look held.
        for lock in (self.data / "postmaster.pid", self.root / f".s.PGSQL.{self.port}.lock"):
            lock.unlink(missing_ok=True)

    def restart(self) -> None:
        """Stop (if running) and start again: same port, same data."""
        if port_open(self.port):
            self.stop()
        self.start()

    def close(self) -> None:
        """Stop it if it runs and delete its folder."""
        if port_open(self.port) or (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[PostgresServer]:
        """A started server, stopped and deleted on exit."""
        server = cls()
        try:
            server.start()
            yield server
        finally:
            server.close()


class RedisServer:
    """A ``redis-server`` of its own on a free port, without persistence.

    Attributes:
        port: The TCP port on 127.0.0.1.
        url: ``redis://127.0.0.1:PORT/0``.
    """

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            _missing("redis-server not found")
        self._binary = str(binary)
        self.root = Path(tempfile.mkdtemp(prefix="rg-redis-"))
        self.log = self.root / "redis.log"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it (again, on the same port, empty) and wait until it answers."""
        cmd = [
            self._binary,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)),
            *("--save", "", "--appendonly", "no", "--logfile", str(self.log)),
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        _wait("redis-server to listen", lambda: port_open(self.port))

    def stop(self) -> None:
        """Stop it cleanly (SIGTERM) and wait for it."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL it."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)

    def restart(self) -> None:
        """Stop and start again (its data is gone: nothing is persisted)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Kill it if it runs and delete its folder."""
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    @contextlib.contextmanager
    def running(cls) -> Iterator[RedisServer]:
        """A started server, killed and deleted on exit."""
        server = cls()
        try:
            server.start()
            yield server
        finally:
            server.close()
