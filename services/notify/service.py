"""Notify service: every event a person should hear about becomes a message in their inbox,
and — as their preferences say — an SMS, an e-mail or a signed webhook call, retried with
back-off until it arrives or is marked failed for an admin to see.

Entrypoints only: they check who is calling, validate, and hand the work to the use cases
(inbox.py, preferences.py, webhooks.py, delivery.py, notices.py, feedback.py) over the
store (store.py).
"""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.common.config import setting
from services.common.errors import load_or_raise
from services.common.geo import TravelModel
from services.common.messaging import event_handler
from services.common.refusals import BadRequest
from services.common.service_base import ServiceBase, actor_of
from services.common.timers import timer_every
from services.notify import delivery, domain, feedback_rules, inbox, notices, schemas, webhooks
from services.notify import feedback as feedback_cases
from services.notify import preferences as prefs
from services.notify.channels import build_channels, insecure_hosts
from services.notify.inbox import InboxSettings
from services.notify.receivers import WebhookLane
from services.notify.store import NotifyStoreProvider


class ChannelsProvider(DependencyProvider):
    def setup(self) -> None:
        self.channels = build_channels(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> dict:
        return self.channels


class WebhookLaneProvider(DependencyProvider):
    """The process's webhook sender: its own pool, gated per receiver (receivers.py)."""

    def setup(self) -> None:
        self.lane = WebhookLane.from_config(self.container.config)

    def stop(self) -> None:
        # Sends under way finish (each within the webhook timeout); one cut short is claimed
        # under a lease and tried again after a restart.
        self.lane.wait_idle(timeout=setting(self.container.config,
                                            "NOTIFY_WEBHOOK_TIMEOUT_SECONDS"))

    def get_dependency(self, worker_ctx: Any) -> WebhookLane:
        return self.lane


def subscription(source: str, event_type: str) -> Any:
    """A handler for ``event_type`` events published by ``source``: the event reaches its
    recipients' inboxes (retried with back-off, then dead-lettered; see messaging.py)."""

    @event_handler(source, event_type)
    def handle(self: NotifyService, payload: dict) -> int:
        return inbox.deliver_event(self.store, payload, event_type, self.clock.now(),
                                   self._inbox_settings())

    handle.__name__ = f"on_{event_type}"
    return handle


class NotifyService(ServiceBase):
    name = "notify"
    store = NotifyStoreProvider()
    channels = ChannelsProvider()
    webhook_lane = WebhookLaneProvider()

    def _inbox_settings(self) -> InboxSettings:
        return InboxSettings.from_config(self.config)

    def _walk_model(self) -> TravelModel:
        return TravelModel(setting(self.config, "WALK_SPEED_M_PER_MIN"),
                           setting(self.config, "WALK_DETOUR_FACTOR"))

    def _tz(self) -> str:
        return setting(self.config, "CITY_TZ")

    # subscriptions: who hears about each event is in routing.py (a unit test checks that
    # every routed event type is subscribed here, from the service that publishes it)

    on_order_confirmed = subscription("orders", "order_confirmed")
    on_order_rejected = subscription("orders", "order_rejected")
    on_order_accepted = subscription("orders", "order_accepted")
    on_order_declined = subscription("orders", "order_declined")
    on_order_out_for_delivery = subscription("orders", "order_out_for_delivery")
    on_order_delivered = subscription("orders", "order_delivered")
    on_order_cancelled = subscription("orders", "order_cancelled")
    on_payment_succeeded = subscription("orders", "payment_succeeded")
    on_payment_failed = subscription("orders", "payment_failed")
    on_payment_refunded = subscription("orders", "payment_refunded")
    on_repair_requested = subscription("dispatch", "repair_requested")
    on_repair_assigned = subscription("dispatch", "repair_assigned")
    on_repair_accepted = subscription("dispatch", "repair_accepted")
    on_repair_declined = subscription("dispatch", "repair_declined")
    on_technician_arrived = subscription("dispatch", "technician_arrived")
    on_repair_completed = subscription("dispatch", "repair_completed")
    on_repair_cancelled = subscription("dispatch", "repair_cancelled")
    on_repair_rated = subscription("dispatch", "repair_rated")
    on_repair_reopened = subscription("dispatch", "repair_reopened")
    on_sla_at_risk = subscription("dispatch", "sla_at_risk")
    on_sla_breached = subscription("dispatch", "sla_breached")
    on_completion_code_locked = subscription("dispatch", "completion_code_locked")
    on_receipt_flagged = subscription("catalog", "receipt_flagged")

    # inbox

    @rpc
    def list_notifications(self, actor: dict, page: int = 1, page_size: int = 20) -> dict:
        return inbox.page(self.store, actor_of(actor), page, page_size, self._inbox_settings())

    @rpc
    def mark_read(self, actor: dict, notification_id: str) -> dict:
        return inbox.mark_read(self.store, actor_of(actor), notification_id, self.clock.now(),
                               self._inbox_settings())

    @rpc
    def mark_all_read(self, actor: dict) -> dict:
        return inbox.mark_all_read(self.store, actor_of(actor), self.clock.now(),
                                   self._inbox_settings())

    @rpc
    def notifications_since(self, actor: dict, after: int | None = None,
                            limit: int = 50) -> dict:
        """For the live stream: what became visible after the cursor ``after``."""
        return inbox.since(self.store, actor_of(actor), after, limit, self._inbox_settings())

    # preferences

    @rpc
    def get_preferences(self, actor: dict) -> dict:
        return prefs.view(self.store, actor_of(actor), self._tz())

    @rpc
    def put_preferences(self, actor: dict, preferences: dict) -> dict:
        who = actor_of(actor)
        data = load_or_raise(schemas.PreferencesUpdateSchema(), preferences)
        return prefs.update(self.store, who, data, self.clock.now(), self._tz())

    # webhooks

    @rpc
    def create_webhook(self, actor: dict, webhook: dict) -> dict:
        who = actor_of(actor)
        domain.check_may_own_webhooks(who)
        data = load_or_raise(schemas.WebhookCreateSchema(), webhook)
        return webhooks.register(self.store, who, data, insecure_hosts(self.config),
                                 self.clock.now(),
                                 setting(self.config, "NOTIFY_WEBHOOKS_PER_ACCOUNT"))

    @rpc
    def list_webhooks(self, actor: dict) -> dict:
        return webhooks.of_owner(self.store, actor_of(actor))

    @rpc
    def delete_webhook(self, actor: dict, webhook_id: str) -> dict:
        return webhooks.delete(self.store, actor_of(actor), webhook_id)

    # deliveries (admin)

    @rpc
    def list_deliveries(self, actor: dict, status: str = "failed", channel: str | None = None,
                        page: int = 1, page_size: int = 20) -> dict:
        domain.require_role(actor_of(actor), ("admin",), "only admins see deliveries")
        return delivery.page(self.store, status, channel, page, page_size, self.clock.now())

    @rpc
    def get_delivery(self, actor: dict, delivery_id: str) -> dict:
        domain.require_role(actor_of(actor), ("admin",), "only admins see deliveries")
        return delivery.get(self.store, delivery_id)

    @rpc
    def retry_delivery(self, actor: dict, delivery_id: str) -> dict:
        domain.require_role(actor_of(actor), ("admin",), "only admins retry deliveries")
        return delivery.retry(self.store, delivery_id, self.clock.now())

    # community notices

    @rpc
    def create_notice(self, actor: dict, notice: dict, idempotency_key: str | None = None
                      ) -> dict:
        who = actor_of(actor)
        domain.require_role(who, ("planner", "admin"), "only planners post community notices")
        data = load_or_raise(schemas.NoticeCreateSchema(), notice)
        return notices.post(self.store, who, data, notice, idempotency_key, self._walk_model(),
                            self.clock.now(), self._inbox_settings(),
                            setting(self.config, "NOTIFY_NOTICE_INLINE"))

    @rpc
    def notice_audience_size(self, actor: dict, audience: dict) -> dict:
        """How many residents a notice to this audience would reach (before posting)."""
        domain.require_role(actor_of(actor), ("planner", "admin"),
                            "only planners post community notices")
        data = load_or_raise(schemas.NoticeAudienceArgs(), {"audience": audience})
        return notices.audience_size(self.store, data["audience"], self._walk_model())

    @rpc
    def list_notices(self, lat: float | None = None, lng: float | None = None,
                     community: str | None = None) -> dict:
        return notices.covering(self.store, lat, lng, community, self.clock.now())

    # feedback to the community (feedback.py)

    @rpc
    def send_feedback(self, actor: dict, feedback: dict) -> dict:
        data = load_or_raise(schemas.FeedbackCreateSchema(), feedback)
        return feedback_cases.send(self.store, actor_of(actor), data, self.clock.now())

    @rpc
    def list_feedback(self, actor: dict, query: dict | None = None) -> dict:
        args = load_or_raise(schemas.FeedbackListArgs(), query or {})
        return feedback_cases.page(self.store, actor_of(actor), args, self.clock.now())

    @rpc
    def get_feedback(self, actor: dict, feedback_id: str) -> dict:
        return feedback_cases.get(self.store, actor_of(actor), feedback_id)

    @rpc
    def reply_feedback(self, actor: dict, feedback_id: str, action: str,
                       text: str | None = None) -> dict:
        """A planner's ``answer`` or ``close``."""
        if action not in feedback_rules.MOVES:
            raise BadRequest(f"unknown action {action!r}")
        data = load_or_raise(schemas.FeedbackReplySchema(), {"text": text})
        return feedback_cases.reply(self.store, actor_of(actor), feedback_id, action,
                                    data["text"], self.clock.now(), self._inbox_settings())

    @rpc
    def assign_planner(self, actor: dict, assignment: dict) -> dict:
        data = load_or_raise(schemas.PlannerCommunitiesSchema(), assignment)
        return feedback_cases.assign_planner(self.store, actor_of(actor), data)

    # background work: releases after quiet hours, channel deliveries, notice fan-outs, expiry

    @timer_every("NOTIFY_TIMER_SECONDS")
    def work_due(self) -> dict | None:
        now = self.clock.now()
        done = {
            "released": inbox.release_held(self.store, now),
            "recovered": delivery.recover_stale(self.store, now),
            "attempted": delivery.send_due(self.store, self.channels,
                                           delivery.RetryPolicy.from_config(self.config), now,
                                           self.clock.now, self.webhook_lane),
            "notice_inboxes": notices.continue_fan_outs(
                self.store, setting(self.config, "NOTIFY_NOTICE_BATCH"), now,
                self._inbox_settings()),
            "expired": inbox.sweep(self.store, now),
        }
        return done if any(done.values()) else None

