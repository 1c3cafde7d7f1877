"""Quorum queues against classic queues, in one run on this machine's broker.

    .venv/bin/python -m bench.queues [--calls 500] [--events 1000] [--rounds 3]

For each queue type, in a private vhost, one nameko container with an RPC method and a
reliable event handler (the project's own), then:
- RPC: sequential calls through a standalone proxy (request queue of that type, reply queue
  classic), p50/p99 per call;
- events: a burst published at once (confirmed), rate = handled / (last handled - first sent).
A single-node broker shows the cost of the quorum queues' Raft log (fsync per batch); a
3-node cluster adds a network round trip to a majority.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import eventlet

eventlet.monkey_patch()

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.rpc import rpc  # noqa: E402
from nameko.standalone.events import event_dispatcher  # noqa: E402
from nameko.standalone.rpc import ServiceRpcProxy  # noqa: E402

from bench.stats import print_table, summary  # noqa: E402
from services.common.broker import temporary_vhost  # noqa: E402
from services.common.config import setting  # noqa: E402
from services.common.messaging import event_handler  # noqa: E402

HANDLED: list[float] = []


class Bench:
    name = "queue_bench"

    @rpc
    def echo(self, value):
        return value

    @event_handler("bench_source", "tick")
    def tick(self, payload):
        HANDLED.append(time.perf_counter())


def measure(label: str, quorum: bool, calls: int, events: int) -> list[dict]:
    base = setting(None, "AMQP_URI")
    with temporary_vhost(base, f"lifecircle-bench-queues-{label}-{os.getpid()}") as uri:
        config = {"AMQP_URI": uri, "AMQP_QUORUM_QUEUES": "1" if quorum else "0",
                  "max_workers": 10, "serializer": "json"}
        container = ServiceContainer(Bench, config)
        container.start()
        try:
            latencies = []
            with ServiceRpcProxy("queue_bench", config) as proxy:
                proxy.echo(0)  # warm up
                started = time.perf_counter()
                for i in range(calls):
                    t0 = time.perf_counter()
                    proxy.echo(i)
                    latencies.append(time.perf_counter() - t0)
                rpc_elapsed = time.perf_counter() - started
            HANDLED.clear()
            dispatch = event_dispatcher(config)
            sent_at = time.perf_counter()
            for i in range(events):
                dispatch("bench_source", "tick", {"i": i})
            deadline = time.monotonic() + 120
            while len(HANDLED) < events and time.monotonic() < deadline:
                time.sleep(0.05)
            event_elapsed = (max(HANDLED) - sent_at) if HANDLED else float("nan")
        finally:
            container.stop()
    return [summary(f"rpc, {label} request queue", latencies, rpc_elapsed),
            {"name": f"events, {label} queues (publish→handled)", "n": len(HANDLED),
             "rate_per_s": round(len(HANDLED) / event_elapsed, 1), "p50_ms": float("nan"),
             "p99_ms": float("nan")}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="classic and quorum alternate this many times (a shared machine)")
    args = parser.parse_args()
    rows: list[dict] = []
    for _ in range(args.rounds):
        rows += measure("classic", False, args.calls, args.events)
        rows += measure("quorum", True, args.calls, args.events)
    print_table(rows)
    for kind in ("rpc", "events"):
        rates = {label: statistics.median(r["rate_per_s"] for r in rows
                                          if r["name"].startswith(kind) and label in r["name"])
                 for label in ("classic", "quorum")}
        print(f"{kind}: median rate classic {rates['classic']}/s, quorum {rates['quorum']}/s, "
              f"quorum / classic = {rates['quorum'] / rates['classic']:.2f}")


if __name__ == "__main__":
    main()
