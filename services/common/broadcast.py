"""Telling a service's other replicas that something they keep in memory has changed.

Catalog keeps merchants by H3 cell and dispatch keeps its technicians in memory, each kept
current by its own writes. With several replicas on one database, a write made through replica
A must reach replica B's copy too. So the replica that writes announces the change (a small
transient message on its service's event exchange, no confirm, never retried: it must not
slow or fail the write), and every replica listens with a nameko broadcast handler (one
exclusive, auto-deleted queue per replica; ``reliable_delivery=False``) and reloads or drops
its copy. A replica ignores its own announcements: it updated its copy when it wrote.

Announcements are best effort; a replica that misses one (it was disconnected from the
broker) is corrected by the read model's own backstop (catalog: cells expire on MongoDB;
dispatch: a periodic reload), see docs/operations.md.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from nameko.amqp.publish import Publisher
from nameko.constants import NON_PERSISTENT
from nameko.events import BROADCAST, event_handler
from nameko.standalone.events import get_event_exchange

log = logging.getLogger(__name__)


class Announcer:
    """``announce(data)`` tells every replica of ``service`` that ``event_type`` happened."""

    def __init__(self, amqp_uri: str, service: str, event_type: str, config: dict) -> None:
        self.replica = uuid.uuid4().hex  # who sent it, so a replica skips its own
        self.event_type = event_type
        self.exchange = get_event_exchange(service, config)
        self.publisher = Publisher(amqp_uri, serializer="json", use_confirms=False,
                                   delivery_mode=NON_PERSISTENT, retry=False)

    def __call__(self, data: dict[str, Any]) -> None:
        try:
            self.publisher.publish({**data, "replica": self.replica}, exchange=self.exchange,
                                   routing_key=self.event_type, declare=[self.exchange])
        except Exception:  # the write stands; the read models' backstop corrects the others
            log.warning("could not announce %s to other replicas", self.event_type,
                        exc_info=True)

    def from_other_replica(self, payload: dict[str, Any]) -> bool:
        return payload.get("replica") != self.replica


def broadcast_handler(source: str, event_type: str) -> Any:
    """Every replica of the service hears ``event_type``: nameko's broadcast handler, one
    transient queue per replica, nothing retried (a missed one is corrected by a backstop)."""
    return event_handler(source, event_type, handler_type=BROADCAST, reliable_delivery=False)
