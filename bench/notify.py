"""Notify: how many notifications per second the service stores, and how long from an event
being published to the notification being in the inbox.

    .venv/bin/python -m bench.notify [--events 1500] [--paced 600] [--rate 50]

Runs the real notify service as its own process (``nameko run``, embedded store, private
RabbitMQ vhost and data directory). Events are order_confirmed events, each for a new
resident and a new shop owner, so each makes two notifications. Times are measured from the
event's ``occurred_at`` (set just before publishing) to the notification's ``created_at``
(set by the service when it stores it), one clock, one machine.

1. burst: every event published at once; notifications/s = notifications / (last stored -
   first published). Latency here is mostly queueing.
2. paced: events at a fixed rate below capacity; p50/p99 publish -> stored.
3. baseline, same run: the burst's events published again (duplicates: contract check and
   an id lookup, no write) — the ratio shows what storing and rendering cost.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kombu import Connection, Producer
from nameko.events import get_event_exchange
from nameko.standalone.rpc import ClusterRpcProxy

from bench.stats import print_table, summary
from services.common.config import setting
from services.common.events import make_event


def order_event(i: int) -> dict:
    tag = uuid.uuid4().hex[:12]
    data = {"order_id": f"ord_{uuid.uuid4().hex}", "resident_id": f"bench-res-{tag}",
            "merchant_id": f"mer_{uuid.uuid4().hex}", "merchant_owner_id": f"bench-mer-{tag}",
            "merchant_name": "惠民便利店", "status": "confirmed", "previous_status": "pending",
            "items": [{"product_id": f"prd_{uuid.uuid4().hex}", "quantity": 1 + i % 3}],
            "total_fen": 1290 + i, "reason": None, "by": None}
    return make_event("order_confirmed", data, source="orders", correlation_id=data["order_id"])


class Publisher:
    def __init__(self, uri: str):
        self.conn = Connection(uri)
        self.exchange = get_event_exchange("orders", {"AMQP_URI": uri})
        self.producer = Producer(self.conn.channel(), exchange=self.exchange)

    def publish(self, event: dict) -> None:
        event["occurred_at"] = datetime.now(UTC).isoformat()
        self.producer.publish(event, routing_key=event["type"], serializer="json",
                              delivery_mode=2, declare=[self.exchange], retry=True)

    def close(self) -> None:
        self.conn.release()


def stored_times(rpc, events: list[dict], timeout: float = 300) -> list[tuple[float, float]]:
    """(published, stored) epoch seconds for every notification of these events."""
    out = []
    deadline = time.monotonic() + timeout
    for event in events:
        data = event["data"]
        published = datetime.fromisoformat(event["occurred_at"]).timestamp()
        for sub, role in ((data["resident_id"], "resident"),
                          (data["merchant_owner_id"], "merchant")):
            while True:
                page = rpc.notify.list_notifications(actor={"sub": sub, "role": role})
                if page["items"]:
                    stored = datetime.fromisoformat(page["items"][0]["created_at"])
                    out.append((published, stored.timestamp()))
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no notification for {sub}")
                time.sleep(0.05)
    return out


def wait_ready(config: dict, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with ClusterRpcProxy(config, timeout=2) as rpc:
                rpc.notify.ping()
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def row(name: str, pairs: list[tuple[float, float]]) -> dict:
    first_published = min(p for p, _ in pairs)
    last_stored = max(s for _, s in pairs)
    return summary(name, [s - p for p, s in pairs], last_stored - first_published)


def run(uri: str, data_dir: Path, events: int, paced: int, rate: float) -> list[dict]:
    from services.launcher import System

    system = System(data_dir, env={"AMQP_URI": uri, "NOTIFY_TIMER_SECONDS": "1"})
    system.start("notify")
    config = {"AMQP_URI": uri}
    rows = []
    try:
        wait_ready(config)
        publisher = Publisher(uri)
        with ClusterRpcProxy(config, timeout=10) as rpc:
            burst = [order_event(i) for i in range(events)]
            for event in burst:
                publisher.publish(event)
            rows.append(row(f"burst: {events} events -> {2 * events} notifications",
                            stored_times(rpc, burst)))

            steady = [order_event(i) for i in range(paced)]
            started = time.perf_counter()
            for i, event in enumerate(steady):
                pause = started + i / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                publisher.publish(event)
            rows.append(row(f"paced at {rate:g} events/s (p50/p99 = publish->stored)",
                            stored_times(rpc, steady)))

            # Baseline: the same burst again. Nothing new is stored; the service still
            # consumes, checks the contract and looks the ids up. Timed by draining: a marker
            # event published last is stored only after every duplicate before it was handled
            # (one queue per handler, so order holds for one consumer up to its prefetch).
            started = time.perf_counter()
            for event in burst:
                publisher.publish(dict(event))
            marker = order_event(0)
            publisher.publish(marker)
            stored_times(rpc, [marker])
            elapsed = time.perf_counter() - started
            rows.append({"name": f"baseline: {events} duplicate events (no write)",
                         "n": 2 * events, "rate_per_s": round(2 * events / elapsed, 1),
                         "p50_ms": float("nan"), "p99_ms": float("nan"),
                         "mean_ms": float("nan")})
        publisher.close()
    finally:
        system.stop_all()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1500)
    parser.add_argument("--paced", type=int, default=600)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    from services.common.broker import temporary_vhost

    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-bench-notify-{os.getpid()}"
                         ) as uri, tempfile.TemporaryDirectory() as tmp:
        rows = run(uri, Path(tmp), args.events, args.paced, args.rate)
    print()
    print_table(rows, baseline=rows[-1]["name"])
    print("rate/s for burst and baseline rows: events or notifications handled per second; "
          "× base compares with the duplicate-only baseline")


if __name__ == "__main__":
    main()
