"""Prometheus metrics of a nameko service (docs/operations.md, "Metrics").

- per entrypoint (RPC, event handler, timer): calls by outcome and latency, measured by the
  ``ServiceMetrics`` dependency in ``worker_setup`` / ``worker_result``;
- events handled, retried and dead-lettered (counted by messaging.ReliableEventHandler);
- gauges read from the service's own store when Prometheus scrapes: outbox entries pending and
  the oldest one's age for every service, plus what the service adds (orders by status,
  repairs within and beyond 15 minutes). They come from indexed queries, so a scrape costs
  the same with a thousand documents or ten million, and every replica reports the same value
  (aggregate them with ``max``, not ``sum``).

``METRICS_PORT`` (0: off) is the port of the process's /metrics. Counters are per process; a
process running several containers (tests) labels them by service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import REGISTRY, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from services.common import outbox
from services.common.config import setting
from services.common.logs import get_logger
from services.common.refusals import Refusal

log = get_logger()

CALLS = Counter("lifecircle_entrypoint_calls_total", "Entrypoint calls by outcome",
                ["service", "entrypoint", "outcome"])
LATENCY = Histogram("lifecircle_entrypoint_seconds", "Entrypoint duration",
                    ["service", "entrypoint"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
EVENTS = Counter("lifecircle_events_total",
                 "Events consumed, by outcome: handled, retried, deferred, dead_lettered",
                 ["service", "event_type", "outcome"])


# A gauge source: the store in, {metric name: (help, [(labels, value), ...])} out.
Gauges = Callable[[Any], dict[str, tuple[str, list[tuple[dict[str, str], float]]]]]

_server_port: int | None = None


def outcome_of(exc_info: Any) -> str:
    if exc_info is None:
        return "ok"
    # Expected refusals (a 4xx at the gateway) are outcomes, not errors of the service.
    return "refused" if isinstance(exc_info[1], Refusal) else "error"


def outbox_gauges(store: Any, now: datetime,
                  limit: int = 1000) -> dict[str, tuple[str, list[tuple[dict, float]]]]:
    """Pending outbox entries and the age of the oldest (from the indexed pending flag; a
    healthy system has next to none pending, and at most ``limit`` documents are read)."""
    pending, oldest = 0, None
    for collection in store.outbox_collections():
        for doc in collection.find({outbox.PENDING: True}, {outbox.OUTBOX: 1}).limit(limit):
            for event in doc.get(outbox.OUTBOX) or []:
                pending += 1
                at = datetime.fromisoformat(event["occurred_at"])
                oldest = at if oldest is None or at < oldest else oldest
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return {
        "lifecircle_outbox_pending": ("Events written but not yet published", [({}, pending)]),
        "lifecircle_outbox_oldest_age_seconds": ("Age of the oldest unpublished event",
                                                 [({}, max(age, 0.0))]),
    }


class StoreGauges:
    """A Prometheus collector that asks each running service's store for its gauges at scrape
    time. One per process: containers that share a process (tests) add their own source."""

    def __init__(self) -> None:
        self.sources: dict[Any, tuple[str, Callable[[], Any], Callable[[], datetime],
                                      tuple[Gauges, ...]]] = {}

    def describe(self) -> list:
        return []  # nothing to check at registration: the names depend on what runs

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        for service, store_of, clock, gauges in list(self.sources.values()):
            store = store_of()
            if store is None:
                continue
            try:
                found = outbox_gauges(store, clock())
                for source in gauges:
                    found.update(source(store))
            except Exception:  # a scrape must not fail because the database hiccupped
                log.exception("metrics_gauges_failed", service=service)
                continue
            for name, (help_text, samples) in found.items():
                label_names = ["service", *sorted({k for labels, _ in samples for k in labels})]
                family = families.setdefault(
                    name, GaugeMetricFamily(name, help_text, labels=label_names))
                for labels, value in samples:
                    family.add_metric([service, *(str(labels.get(k, ""))
                                                  for k in label_names[1:])], value)
        return list(families.values())


STORE_GAUGES = StoreGauges()
REGISTRY.register(STORE_GAUGES)


def serve(port: int) -> None:
    """Start this process's /metrics server once (several containers may share a process)."""
    global _server_port
    if port and _server_port is None:
        start_http_server(port)
        _server_port = port


class ServiceMetrics(DependencyProvider):
    """Times every entrypoint and exposes the service's gauges; ``gauges`` adds the
    service's own (see orders/metrics.py, dispatch/metrics.py)."""

    def __init__(self, *gauges: Gauges):
        self.gauges = gauges
        self._started: dict[Any, float] = {}

    def setup(self) -> None:
        serve(setting(self.container.config, "METRICS_PORT"))

    def start(self) -> None:
        STORE_GAUGES.sources[self] = (self.container.service_name, self._store, self._now,
                                      self.gauges)

    def stop(self) -> None:
        STORE_GAUGES.sources.pop(self, None)

    kill = stop

    def _store(self) -> Any:
        # Every service keeps its store in a dependency with a ``store`` attribute.
        for dependency in self.container.dependencies:
            store = getattr(dependency, "store", None)
            if store is not None and hasattr(store, "outbox_collections"):
                return store
        return None

    def _now(self) -> datetime:
        for dependency in self.container.dependencies:
            clock = getattr(dependency, "clock", None)
            if callable(getattr(clock, "now", None)):
                return clock.now()
        from datetime import UTC

        return datetime.now(UTC)

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        service, name = self.container.service_name, worker_ctx.entrypoint.method_name
        CALLS.labels(service, name, outcome_of(exc_info)).inc()
        if started is not None:
            LATENCY.labels(service, name).observe(time.perf_counter() - started)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
