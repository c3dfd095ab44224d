"""The example deployment files (examples/deploy) stay in step with the code: every
``releasegate`` command line in them parses with the real CLI (options exist, values
have the right type), the example project's config is valid, and every releasegate
environment variable they set is one releasegate reads."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from releasegate.cli import load_all
from releasegate.project import load_project
from releasegate.settings import VARIABLES

DEPLOY = Path(__file__).resolve().parents[3] / "examples" / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


class Refused(Exception):
    """The CLI would refuse this command line."""


def parse_command(argv: list[str]) -> Any:
    """Parse ``releasegate ARGV`` down to its command, without running it; returns the
    command's context (its parsed ``params``).

    Raises:
        Refused: an unknown command or option, or a value of the wrong type.
    """
    assert argv[0] == "releasegate", argv
    command: Any = get_command(load_all())
    ctx = command.context_class(command, info_name="releasegate")
    args = argv[1:]
    while hasattr(command, "list_commands"):  # a group: descend to the named command
        name, args = args[0], args[1:]
        found = command.get_command(ctx, name)
        if found is None:
            raise Refused(f"no command {name!r}")
        command = found
        ctx = command.context_class(command, info_name=name, parent=ctx)
    try:
        return command.make_context(ctx.info_name, list(args), parent=ctx.parent)
    except Exception as exc:  # the CLI's own (vendored click) usage errors
        if any(k.__name__ == "UsageError" for k in type(exc).__mro__):
            raise Refused(str(exc)) from exc
        raise


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return doc


def _exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(unit.read_text())
    argv = shlex.split(parser["Service"]["ExecStart"].replace("%i", "8710"))
    return ["releasegate", *argv[1:]] if argv[0].endswith("/releasegate") else argv


def test_the_command_parser_refuses_what_the_cli_refuses() -> None:
    ctx = parse_command(["releasegate", "serve", "--gateway", "--port", "8710"])
    assert ctx.params["gateway"] is True and ctx.params["port"] == 8710
    with pytest.raises(Refused, match="gatewya"):
        parse_command(["releasegate", "serve", "--gatewya"])
    with pytest.raises(Refused, match="integer"):
        parse_command(["releasegate", "worker", "--workers", "many"])
    with pytest.raises(Refused):
        parse_command(["releasegate", "db", "downgrade"])


def test_compose_services_run_real_commands() -> None:
    services = _compose()["services"]
    commands = {n: s["command"] for n, s in services.items() if "command" in s}
    ours = {n: c for n, c in commands.items() if c[0] == "releasegate"}
    assert set(ours) >= {"migrate", "gateway-1", "gateway-2", "api", "dashboard", "worker"}
    for argv in ours.values():
        parse_command(argv)
    assert services["worker"]["deploy"]["replicas"] == 2
    assert {"postgres", "redis"} <= set(services)


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_systemd_units_run_real_commands(unit: Path) -> None:
    parse_command(_exec_start(unit))


def test_environment_variables_are_ones_releasegate_reads() -> None:
    known = {v.name for v in VARIABLES}
    anchor = _compose()["x-releasegate"]["environment"]
    env_file = (DEPLOY / "systemd" / "releasegate.env").read_text().splitlines()
    names = set(anchor) | {
        line.split("=", 1)[0] for line in env_file if "=" in line and not line.startswith("#")
    }
    assert names <= known, names - known


def test_the_example_project_is_valid() -> None:
    project = load_project(DEPLOY / "project" / "releasegate.yaml")
    config = project.config
    assert (config.online.queue or "").startswith("redis://")
    assert (config.gateway.redis_url or "").startswith("redis://")
    assert "support-chat" in project.prompts()
