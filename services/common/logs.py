"""Structured logs: one JSON line per handled request, event or RPC, so one order can be
followed across every service with ``grep <order id>``."""

from __future__ import annotations

import logging
import sys
import time
import weakref
from typing import Any

import structlog
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer

from services.common.config import setting

_configured = False

# Keyword arguments of RPC methods that name the thing a call is about.
_CORRELATION_KWARGS = ("order_id", "repair_id", "merchant_id", "product_id", "correlation_id")


def configure(service: str, config: dict | None = None) -> None:
    """JSON lines on stdout, tagged with the service name, at LOG_LEVEL and above (the
    production default, warning, keeps per-request and per-event lines out; info shows one
    line per request, RPC and event). Safe to call more than once."""
    global _configured
    if _configured:
        return
    level = logging.getLevelNamesMapping().get(str(setting(config, "LOG_LEVEL")).upper(),
                                               logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    _configured = True


def get_logger(**kw: Any) -> Any:
    return structlog.get_logger(**kw)


def describe_worker(worker_ctx: Any) -> dict[str, Any]:
    """What a worker handled, for the log line."""
    entrypoint = worker_ctx.entrypoint
    info: dict[str, Any] = {"entrypoint": entrypoint.method_name}
    if isinstance(entrypoint, EventHandler):
        info["kind"] = "event"
        payload = worker_ctx.args[0] if worker_ctx.args else None
        if isinstance(payload, dict):
            info["event_type"] = payload.get("type")
            info["event_id"] = payload.get("id")
            info["correlation_id"] = payload.get("correlation_id")
    elif isinstance(entrypoint, Rpc):
        info["kind"] = "rpc"
        for key in _CORRELATION_KWARGS:
            if worker_ctx.kwargs.get(key):
                info["correlation_id"] = worker_ctx.kwargs[key]
                break
    elif isinstance(entrypoint, Timer):
        info["kind"] = "timer"
    return info


class WorkerLog(DependencyProvider):
    """Logs every worker's outcome and duration (timers only when they did something)."""

    def setup(self) -> None:
        configure(self.container.service_name, self.container.config)
        self.log = get_logger()
        self._started: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        info = describe_worker(worker_ctx)
        quiet = info.get("kind") == "timer" and not result or info["entrypoint"] == "ping"
        if quiet and exc_info is None:
            return  # idle timers and readiness pings would drown the log
        if started is not None:
            info["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
        if exc_info is None:
            info["outcome"] = "ok"
            if info.get("kind") == "timer":
                info["result"] = result
            self.log.info("handled", **info)
        else:
            info["outcome"] = "error"
            info["error"] = f"{exc_info[0].__name__}: {exc_info[1]}"
            self.log.warning("handled", **info)
