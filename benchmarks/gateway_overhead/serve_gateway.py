"""Run the releasegate gateway for the benchmark: one worker, a chosen recorder.

    python -m benchmarks.gateway_overhead.serve_gateway --config DIR/releasegate.yaml \
        --db sqlite:///DIR/rg.sqlite --port 18030 [--recorder store|thread|memory|none]

``store`` (the default, what ``releasegate serve --gateway`` does): every record is
written to the database by the gateway's writer process; ``thread``: written by a
background thread of the serving process (the design it replaced, kept to compare);
``memory``: kept in a bounded in-memory buffer; ``none``: dropped.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

import uvicorn

from releasegate.bootstrap.serving import tune_for_serving
from releasegate.gateway import MemoryRecorder, Recorder
from releasegate.gateway._build import build_gateway
from releasegate.gateway._timing import stamped_protocol
from releasegate.gateway._to_record import GATEWAY_FEATURE, minimal, to_interaction


class NullRecorder:
    """Drops every record (the "recording off" arm)."""

    def submit(self, record: Mapping[str, Any]) -> None:
        return None


class ThreadRecorder:
    """Builds each interaction in the event loop and writes them from a background
    thread of the serving process (the "recording in a thread" arm)."""

    def __init__(self, config: str, db_url: str) -> None:
        from releasegate.bootstrap.online import recording_hooks
        from releasegate.online.store_writer import StoreWriter
        from releasegate.project import load_project
        from releasegate.store.database import open_database

        db = open_database(db_url)
        hooks = recording_hooks(load_project(config).config.online, db.url)
        self.writer = StoreWriter(
            lambda: hooks.service(db.uow()),
            capacity=50_000,
            reserved=frozenset({GATEWAY_FEATURE}),
            salvage=minimal,
        )

    def submit(self, record: Mapping[str, Any]) -> None:
        self.writer.submit(to_interaction(record))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--recorder", choices=("store", "thread", "memory", "none"), default="store")
    args = ap.parse_args()
    recorder: Recorder | None = None
    if args.recorder == "thread":
        recorder = ThreadRecorder(args.config, args.db)
    elif args.recorder == "memory":
        recorder = MemoryRecorder(capacity=10_000)
    elif args.recorder == "none":
        recorder = NullRecorder()
    app = build_gateway(args.config, args.db, recorder=recorder)
    config = uvicorn.Config(
        app,
        port=args.port,
        http=stamped_protocol(),
        log_level="warning",
        access_log=False,
        lifespan="on",
        proxy_headers=False,  # as `releasegate serve` without --access-log
    )
    server = uvicorn.Server(config)
    tune_for_serving()  # as `releasegate serve` does
    server.run()


if __name__ == "__main__":
    main()
