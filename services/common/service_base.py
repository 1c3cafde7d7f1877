"""What every nameko service has: its logger, clock, event publisher, outbox relay and ping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import outbox
from services.common.clock import ClockProvider
from services.common.config import setting
from services.common.logs import WorkerLog
from services.common.messaging import EventPublisher

# Timer intervals are fixed when the class is defined, before any container config exists,
# so they come from the environment (through config, like every setting).
RELAY_SECONDS = setting(None, "OUTBOX_RELAY_SECONDS")


class ServiceBase:
    """Subclasses set ``name`` and ``store`` (a StoreProvider)."""

    name: str
    store: Any
    config = Config()
    clock = ClockProvider()
    publish = EventPublisher()
    log = WorkerLog()

    @rpc
    def ping(self) -> dict[str, Any]:
        return {"service": self.name, "ok": True}

    @timer(interval=RELAY_SECONDS)
    def relay_outbox(self) -> int:
        """Publish events a crash left in an outbox."""
        grace = timedelta(seconds=setting(self.config, "OUTBOX_GRACE_SECONDS"))
        return outbox.relay(self.store.outbox_collections(), self.publish,
                            self.clock.now() - grace)

    def flush(self, collection: Any, doc_id: Any) -> int:
        """Publish what a write just recorded in a document's outbox."""
        return outbox.flush(collection, doc_id, self.publish)


def actor_of(actor: Any) -> dict[str, str]:
    """The caller as the gateway vouched for it: {"sub", "role"}."""
    if not isinstance(actor, dict) or not actor.get("sub") or not actor.get("role"):
        raise ValueError("every command needs an actor with sub and role")
    return {"sub": str(actor["sub"]), "role": str(actor["role"])}
