"""The gateway's Prometheus metrics at ``GET /metrics``.

gunicorn runs several worker processes; prometheus-client's multiprocess mode (files under
``PROMETHEUS_MULTIPROC_DIR``, set up by gunicorn_conf.py) lets any worker answer a scrape with
the sum of all of them. Without that directory (the Flask test client, a single process) the
process's own registry answers.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("lifecircle_http_requests_total", "HTTP requests by route and status",
                   ["method", "route", "status"])
LATENCY = Histogram("lifecircle_http_request_seconds", "HTTP request duration by route",
                    ["method", "route"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
IN_FLIGHT = Gauge("lifecircle_http_requests_in_flight", "HTTP requests being handled",
                  multiprocess_mode="livesum")
# Load shed at the edge: 429 (a user over their rate) and 503 (services overloaded or down).
SHED = Counter("lifecircle_http_shed_total", "Requests refused to protect the system",
               ["status"])
SHED_STATUSES = {429, 503}


def route_of() -> str:
    """The URL rule, not the path: ids in paths must not make a label per order."""
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def scrape() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def install(app: Flask) -> None:
    """Count and time every request, and serve /metrics (for the cluster's Prometheus; the
    reverse proxy does not route it from outside)."""

    @app.before_request
    def _metrics_start() -> None:
        g.metrics_started = time.perf_counter()
        IN_FLIGHT.inc()

    @app.after_request
    def _metrics_count(response):
        started = g.get("metrics_started")
        if started is not None:
            route = route_of()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
            REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            if response.status_code in SHED_STATUSES:
                SHED.labels(str(response.status_code)).inc()
        return response

    @app.teardown_request
    def _metrics_done(_exc=None) -> None:
        if g.pop("metrics_started", None) is not None:
            IN_FLIGHT.dec()

    app.add_url_rule("/metrics", "metrics", scrape)
