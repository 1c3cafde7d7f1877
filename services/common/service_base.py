"""What every nameko service has: its logger, clock, event publisher, metrics, outbox relay and
ping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common import outbox
from services.common.clock import ClockProvider
from services.common.config import setting
from services.common.logs import WorkerLog, get_logger
from services.common.messaging import EventPublisher
from services.common.metrics import ServiceMetrics
from services.common.publisher import PublishFailed
from services.common.refusals import Forbidden
from services.common.subjects import valid_subject
from services.common.timers import timer_every


class ServiceBase:
    """Subclasses set ``name`` and ``store`` (a StoreProvider)."""

    name: str
    store: Any
    config = Config()
    clock = ClockProvider()
    publish = EventPublisher()
    log = WorkerLog()
    metrics = ServiceMetrics()  # subclasses may pass their own gauges

    @rpc
    def ping(self) -> dict[str, Any]:
        return {"service": self.name, "ok": True}

    @timer_every("OUTBOX_RELAY_SECONDS")
    def relay_outbox(self) -> int:
        """Publish events a crash left in an outbox."""
        grace = timedelta(seconds=setting(self.config, "OUTBOX_GRACE_SECONDS"))
        return outbox.relay(self.store.outbox_collections(), self.publish,
                            self.clock.now() - grace)

    def flush(self, collection: Any, doc_id: Any, written: dict | None = None) -> int:
        """Publish what a write just recorded in a document's outbox (``written``: the
        document the write returned, if at hand). If the broker does not
        confirm, the events stay in the outbox and the relay publishes them later: the state
        change is done either way, so the caller is not failed for it."""
        try:
            return outbox.flush(collection, doc_id, self.publish, written)
        except PublishFailed as exc:
            self.log_publish_failure(exc)
            return 0

    def log_publish_failure(self, exc: Exception) -> None:
        get_logger().warning("publish_failed", error=str(exc), outcome="left_for_relay")


def actor_of(actor: Any) -> dict[str, str]:
    """The caller as the gateway vouched for it: {"sub", "role"}."""
    if not isinstance(actor, dict) or not actor.get("sub") or not actor.get("role"):
        raise ValueError("every command needs an actor with sub and role")
    if not valid_subject(actor["sub"]):
        # Checked here too, not only at the gateway: a "role:dispatcher" subject would read
        # the dispatchers' shared inbox.
        raise Forbidden("not a valid subject")
    return {"sub": actor["sub"], "role": str(actor["role"])}
