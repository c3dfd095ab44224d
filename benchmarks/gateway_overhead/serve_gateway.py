"""Run the releasegate gateway for the benchmark: one worker, a chosen recorder.

    python -m benchmarks.gateway_overhead.serve_gateway --config DIR/releasegate.yaml \
        --db sqlite:///DIR/rg.sqlite --port 18030 [--recorder store|memory|none]

``store`` (the default, what ``releasegate serve --gateway`` does): every record is
written to the database by the background writer; ``memory``: kept in a bounded
in-memory buffer; ``none``: dropped.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import uvicorn

from releasegate.gateway import MemoryRecorder
from releasegate.gateway._build import build_gateway
from releasegate.gateway._timing import stamped_protocol


class NullRecorder:
    """Drops every record (the "recording off" arm)."""

    def submit(self, record: Mapping[str, Any]) -> None:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--recorder", choices=("store", "memory", "none"), default="store")
    args = ap.parse_args()
    recorders = {"store": None, "memory": MemoryRecorder(capacity=10_000), "none": NullRecorder()}
    app = build_gateway(args.config, args.db, recorder=recorders[args.recorder])
    config = uvicorn.Config(
        app, port=args.port, http=stamped_protocol(), log_level="warning", access_log=False
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
