"""``releasegate demo``: the whole story on the embedded default and a real local model.

An example feature with a golden dataset; prompt v1 in production; v2 blocked by the
eval gate with what regressed; v3 approved and sent through a canary on the gateway,
where simulated users' requests are scored online by the worker and the canary
analysis promotes or rolls back; the dashboard to watch it; a summary of what happened
and why. SQLite store, SqliteHuey queue, one machine, no API key, no network (SmolLM2-
135M-Instruct through llama.cpp: the ``local`` extra). The project it runs on is package
data (``releasegate/demo/project``), written to a directory of the user's choice.
"""

from __future__ import annotations

from releasegate.demo._narrator import Narrator
from releasegate.demo._story import DemoOptions, DemoResult, run_demo

__all__ = ["DemoOptions", "DemoResult", "Narrator", "run_demo"]
