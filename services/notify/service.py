"""Notify service: every event a person should hear about becomes a message in their inbox."""

from __future__ import annotations

from nameko.rpc import rpc

from services.common.errors import NotFound
from services.common.events import load_event
from services.common.messaging import event_handler
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider
from services.notify import domain
from services.notify.store import NotifyStore

ORDER_EVENTS = (
    "order_confirmed", "order_rejected", "order_accepted", "order_declined",
    "order_out_for_delivery", "order_delivered", "order_cancelled",
)


class NotifyService(ServiceBase):
    name = "notify"
    store = StoreProvider(NotifyStore, "notify")

    def _deliver(self, payload: dict, event_type: str) -> int:
        event = load_event(payload, event_type)
        return sum(self.store.add(doc)
                   for doc in domain.notifications_for(event, self.clock.now()))

    @rpc
    def list_notifications(self, actor: dict, page: int = 1, page_size: int = 20) -> dict:
        who = actor_of(actor)
        docs, total, unread = self.store.page(who["sub"], (page - 1) * page_size, page_size)
        return {"items": [domain.public_notification(d) for d in docs], "page": page,
                "page_size": page_size, "total": total, "unread_count": unread}

    @rpc
    def mark_read(self, actor: dict, notification_id: str) -> dict:
        who = actor_of(actor)
        doc = self.store.mark_read(who["sub"], notification_id, self.clock.now())
        if doc is None:
            raise NotFound("no such notification")
        return domain.public_notification(doc)


def _order_handler(event_type: str):
    @event_handler("orders", event_type)
    def handle(self: NotifyService, payload: dict) -> int:
        return self._deliver(payload, event_type)

    handle.__name__ = f"on_{event_type}"
    return handle


for _event_type in ORDER_EVENTS:
    setattr(NotifyService, f"on_{_event_type}", _order_handler(_event_type))
