"""The story `releasegate demo` plays, step by step, on real parts.

1. the project is written and the local model server started;
2. v1 passes the eval gate and becomes the active version;
3. v2 fails the gate against v1's report: its approval is refused and it is rejected;
4. v3 passes the gate and is approved;
5. the gateway and the worker start, simulated users send requests, v3 starts a canary
   with the project's rollout plan and the worker's analysis advances, promotes or
   rolls it back on the online scores;
6. a summary from the store says what happened and why.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from releasegate.bootstrap import ControlPlaneParts, online_checks_from, open_database
from releasegate.demo._canary import Watch, watch_canary
from releasegate.demo._evals import evaluate, show_changes, show_gate
from releasegate.demo._files import FEATURE, load_plan, load_traffic, write_project
from releasegate.demo._narrator import Narrator
from releasegate.demo._processes import Child, DashboardThread, bind_loopback
from releasegate.demo._summary import summarize
from releasegate.demo._traffic import Users
from releasegate.deploy.tokens import Scope
from releasegate.errors import DeploymentError, RunFailed
from releasegate.local.assets import chat_model_path, require_module
from releasegate.local.process import free_port
from releasegate.project import Project, load_project
from releasegate.results.report import EvalReport

__all__ = ["ACTOR", "DemoOptions", "DemoResult", "run_demo"]

#: Who the audit log says acted for the demo's own steps.
ACTOR = "releasegate-demo"


@dataclass
class DemoOptions:
    """How to run the demo.

    Attributes:
        directory: Where the project and its database go (new or empty); None: a new
            temporary directory (kept, so it can be looked at afterwards).
        quick: Evaluate the ``quick`` cases only and use the shorter rollout plan.
        keep_serving: After the summary, keep the dashboard, gateway and worker up
            until Ctrl-C.
        dashboard_port: Port of the dashboard on 127.0.0.1 (0: a free one).
        canary_timeout_s: Longest the canary is watched (None: 420 s, quick 300 s).
    """

    directory: Path | None = None
    quick: bool = False
    keep_serving: bool = False
    dashboard_port: int = 0
    canary_timeout_s: float | None = None


@dataclass
class DemoResult:
    """What the demo did: where, and how the canary ended."""

    directory: Path
    database_url: str
    dashboard_url: str
    gateway_url: str
    outcome: str
    watch: Watch | None


def _register(parts: ControlPlaneParts, project: Project, version: str, prompt: str) -> None:
    p = project.prompt(prompt)
    parts.deployments().register(
        FEATURE,
        version,
        prompt=f"{p.name}@{p.version}",
        model=p.model,
        params=dict(p.params),
        actor=ACTOR,
    )


class _Story:
    def __init__(self, narrator: Narrator, options: DemoOptions, stack: contextlib.ExitStack):
        self.n = narrator
        self.o = options
        self.stack = stack
        self.children: list[Child] = []
        self.users: Users | None = None

    def child(self, name: str, args: list[str], directory: Path) -> Child:
        c = Child(
            name, args, log=directory / "logs" / f"{name.replace(' ', '-')}.log", cwd=directory
        )
        c.start()
        self.children.append(c)
        self.stack.callback(c.stop)
        return c

    def check_alive(self) -> None:
        for c in self.children:
            c.check()

    def run(self) -> DemoResult:
        n, o = self.n, self.o
        require_module("llama_cpp")  # the local extra: a clear install hint when missing
        chat_model_path()
        directory = (o.directory or Path(tempfile.mkdtemp(prefix="releasegate-demo-"))).resolve()

        n.step(1, "Set up: a project on the bundled local model")
        port = free_port()
        write_project(directory, f"http://127.0.0.1:{port}/v1")
        config = directory / "releasegate.yaml"
        n.say("project: ", (str(directory), "bold"))
        n.note("releasegate.yaml, prompts/ (v1, v2, v3), datasets/golden.yaml, rollout.yaml")
        model = self.child("model server", ["local", "serve", "--port", str(port)], directory)
        with n.waiting(f"starting SmolLM2-135M-Instruct on 127.0.0.1:{port} (llama.cpp)"):
            model.wait_http(f"http://127.0.0.1:{port}/health", timeout_s=180)
        project = load_project(config)
        db_url = f"sqlite:///{directory / '.releasegate' / 'releasegate.db'}"
        database = open_database(db_url, create=True)
        self.stack.callback(database.close)
        parts = ControlPlaneParts.on_database(database)
        parts.online_checks = online_checks_from(project.config.online)
        dashboard_url = self.dashboard(parts)

        reports = directory / "reports"
        n.step(2, "v1: the version in production")
        v1 = evaluate(n, project, "golden-v1", reports=reports, name="v1", quick=o.quick)
        show_gate(n, v1, "v1")
        if not self.approve_or_reject(parts, project, "v1", "review-sentiment-v1", v1.report):
            raise RunFailed("v1 did not pass the eval gate on this machine: nothing to deploy")
        parts.deployments().promote(FEATURE, "v1", actor=ACTOR, reason="first release")
        n.ok("v1 promoted: the active version, serving every user")

        n.step(3, "v2: a prompt cleanup, checked against v1's report")
        v2 = evaluate(
            n, project, "golden-v2", reports=reports, name="v2", baseline=v1.report, quick=o.quick
        )
        show_gate(n, v2, "v2")
        show_changes(n, v2, v1.report, base="v1", head="v2")
        self.approve_or_reject(parts, project, "v2", "review-sentiment-v2", v2.report)

        n.step(4, "v3: the question first, then the review")
        v3 = evaluate(
            n, project, "golden-v3", reports=reports, name="v3", baseline=v1.report, quick=o.quick
        )
        show_gate(n, v3, "v3")
        show_changes(n, v3, v1.report, base="v1", head="v3")
        if not self.approve_or_reject(parts, project, "v3", "review-sentiment-v3", v3.report):
            raise RunFailed("v3 did not pass the eval gate on this machine: no canary to run")
        n.note(f"reports: {reports}/v1|v2|v3 .json .md .html")

        n.step(5, "Canary: v3 on live traffic through the gateway")
        watch, gateway_url = self.canary(parts, directory, config, db_url)

        n.step(6, "What happened, and why")
        outcome = summarize(n, parts, FEATURE, "v3", watch, dashboard_url=dashboard_url)
        n.note(f"project, reports and logs: {directory}")
        return DemoResult(directory, db_url, dashboard_url, gateway_url, outcome, watch)

    def dashboard(self, parts: ControlPlaneParts) -> str:
        """Start the dashboard on this process; its URL. Prints a sign-in link holding an
        operate token created for the demo."""
        from releasegate.dashboard.app import create_dashboard

        sock = bind_loopback(self.o.dashboard_port)
        port = sock.getsockname()[1]
        server = DashboardThread(create_dashboard(parts, title="releasegate demo"), sock)
        server.start()
        self.stack.callback(server.stop)
        token = parts.tokens().create("demo-dashboard", Scope.OPERATE, actor=ACTOR)
        url = f"http://127.0.0.1:{port}"
        self.n.say(("dashboard: ", "bold"), f"{url}  (open it now to watch the story)")
        self.n.say(("sign in:   ", "bold"), f"{url}/login?token={token.secret}")
        self.n.note("an operate token created for this demo (it can promote and roll back)")
        return url

    def approve_or_reject(
        self,
        parts: ControlPlaneParts,
        project: Project,
        version: str,
        prompt: str,
        report: EvalReport,
    ) -> bool:
        """Register ``version``; approve it on ``report``, or reject it when the
        approval is refused. Returns whether it was approved."""
        _register(parts, project, version, prompt)
        try:
            parts.deployments().approve(
                FEATURE, version, actor=ACTOR, reason="eval gate passed", report=report
            )
        except DeploymentError as exc:
            self.n.bad(f"approval of {version} refused: {exc}")
            parts.deployments().reject(
                FEATURE, version, actor=ACTOR, reason="eval gate failed", report=report
            )
            self.n.say(
                ("   blocked: ", "bold red"), f"{version} is rejected: it never serves a user"
            )
            return False
        self.n.ok(f"{version} registered and approved on its passing report")
        return True

    def canary(
        self, parts: ControlPlaneParts, directory: Path, config: Path, db_url: str
    ) -> tuple[Watch, str]:
        n, o = self.n, self.o
        gw_port = free_port()
        common = ["--config", str(config), "--db", db_url]
        gateway = self.child(
            "gateway", ["serve", "--gateway", "--port", str(gw_port), *common], directory
        )
        worker = self.child("worker", ["worker", *common], directory)
        with n.waiting(f"starting the gateway on 127.0.0.1:{gw_port} and the worker"):
            gateway.wait_http(f"http://127.0.0.1:{gw_port}/healthz", timeout_s=60)
            time.sleep(1.0)
            worker.check()
        for c in (gateway, worker):
            n.note(f"{c.name}: {c.command}  (log: logs/{c.log.name})")
        traffic = load_traffic(directory / "traffic.yaml")
        base_url = f"http://127.0.0.1:{gw_port}/v1"
        users = Users(base_url, FEATURE, traffic)
        self.users = users
        self.stack.callback(users.stop)
        users.start()
        n.say(
            f"{users.concurrency} simulated users send reviews to {base_url} as "
            f"model={FEATURE!r}, user=<one of {traffic.users} ids> (the sticky unit key)"
        )
        deadline = time.monotonic() + 60
        while users.snapshot().sent < 6 and time.monotonic() < deadline:
            self.check_alive()
            time.sleep(0.5)
        plan_file = directory / ("rollout-quick.yaml" if o.quick else "rollout.yaml")
        plan = load_plan(plan_file)
        stages = " -> ".join(
            f"{s.share:.0%} ({s.min_samples} scored, {s.min_duration_s:g} s)"
            if i < len(plan.stages) - 1
            else f"{s.share:.0%}"
            for i, s in enumerate(plan.stages)
        )
        parts.deployments().canary(
            FEATURE, "v3", actor=ACTOR, plan=plan, reason="passed the eval gate against v1"
        )
        n.ok(f"v3's canary started with the plan in {plan_file.name} (demo settings): {stages}")
        n.note(
            "the worker scores every request with the online checks and runs the canary "
            "analysis; it alone decides to advance, promote or roll back"
        )
        timeout = o.canary_timeout_s or (300.0 if o.quick else 420.0)
        watch = watch_canary(
            n, parts, FEATURE, "v3", users, timeout_s=timeout, check_alive=self.check_alive
        )
        if not o.keep_serving:
            users.stop()
            watch.users = users.snapshot()  # with the requests that were in flight
        return watch, base_url


def run_demo(narrator: Narrator, options: DemoOptions) -> DemoResult:
    """Play the story (see the module docstring) and return what happened.

    Every process and server it started is stopped before it returns or raises; with
    ``keep_serving`` they stay up until Ctrl-C first.

    Raises:
        MissingExtra: the ``local`` extra is not installed.
        UsageError: ``options.directory`` is not new or empty.
        RunFailed: a part of the story could not run (a child process died, v3 failed
            its gate on this machine).
    """
    with contextlib.ExitStack() as stack:
        story = _Story(narrator, options, stack)
        result = story.run()
        if options.keep_serving:
            narrator.say(
                ("Serving until Ctrl-C: ", "bold"),
                f"the dashboard at {result.dashboard_url}, the gateway at {result.gateway_url} "
                "(any OpenAI client: model='review-sentiment') and the worker; the simulated "
                "users keep sending",
            )
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    story.check_alive()
                    time.sleep(1.0)
        return result
    raise AssertionError("unreachable")  # pragma: no cover
