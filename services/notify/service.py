"""Notify service: every event a person should hear about becomes a message in their inbox,
and — as their preferences say — an SMS, an e-mail or a signed webhook call, retried with
back-off until it arrives or is marked failed for an admin to see."""

from __future__ import annotations

import os
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

import eventlet
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import idempotency
from services.common.config import setting as common_setting
from services.common.errors import Forbidden, InvalidInput, NotFound, load_or_raise
from services.common.events import load_event, new_id
from services.common.geo import TravelModel, cell_for
from services.common.messaging import event_handler
from services.common.service_base import ServiceBase, actor_of
from services.common.store import StoreProvider
from services.notify import domain, notices, schemas
from services.notify import preferences as prefs_mod
from services.notify.channels import (
    DeliveryError,
    build_channels,
    check_webhook_url,
    insecure_hosts,
)
from services.notify.routing import ROLE_INBOXES, ROUTES, SOURCES
from services.notify.settings import setting
from services.notify.store import NotifyStore

# Timer intervals are fixed when the class is defined, so they come from the environment.
TIMER_SECONDS = float(os.environ.get("NOTIFY_TIMER_SECONDS", "1"))
SEND_BATCH = 200
SEND_CONCURRENCY = 20
MAX_SINCE = 100
SWEEP_EVERY = timedelta(minutes=1)


class ChannelsProvider(DependencyProvider):
    def setup(self) -> None:
        self.channels = build_channels(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> dict:
        return self.channels


class NotifyService(ServiceBase):
    name = "notify"
    store = StoreProvider(NotifyStore, "notify")
    channels = ChannelsProvider()

    # helpers

    def _days(self, key: str) -> timedelta:
        return timedelta(days=setting(self.config, key))

    def _prefs(self, sub: str, role: str) -> dict[str, Any]:
        stored = self.store.get_preferences(sub)
        return prefs_mod.effective(stored, (stored or {}).get("role") or role,
                                   common_setting(self.config, "CITY_TZ"))

    def _walk_model(self) -> TravelModel:
        return TravelModel(common_setting(self.config, "WALK_SPEED_M_PER_MIN"),
                           common_setting(self.config, "WALK_DETOUR_FACTOR"))

    @staticmethod
    def _inboxes(who: dict[str, str]) -> list[str]:
        role_inbox = ROLE_INBOXES.get(who["role"])
        return [who["sub"], role_inbox] if role_inbox else [who["sub"]]

    def _store_with_deliveries(self, doc: dict, prefs: dict, now: datetime) -> int:
        added = self.store.add_notification(doc)
        wanted = prefs_mod.channels_for(prefs, doc["category"])
        hooks = self.store.webhooks_of(doc["recipient_id"]) if "webhook" in wanted else []
        # Also on a redelivered event: a crash between the two writes is healed here, and
        # delivery ids are deterministic, so nothing is sent twice.
        for delivery in domain.deliveries_for(doc, prefs, hooks, now):
            self.store.add_delivery(delivery)
        return int(added)

    def _deliver(self, payload: dict, event_type: str) -> int:
        event = load_event(payload, event_type)
        now = self.clock.now()
        stored = 0
        for audience, recipient in domain.recipients_of(event):
            prefs = self._prefs(recipient, audience.name)
            doc = domain.event_notification(event, audience, recipient, prefs, now,
                                            self._days("NOTIFY_ROLE_RETENTION_DAYS"))
            stored += self._store_with_deliveries(doc, prefs, now)
        return stored

    # inbox

    @rpc
    def list_notifications(self, actor: dict, page: int = 1, page_size: int = 20) -> dict:
        who = actor_of(actor)
        language = self._prefs(who["sub"], who["role"])["language"]
        docs, total, unread = self.store.page(self._inboxes(who), who["sub"],
                                              (page - 1) * page_size, page_size)
        return {"items": [domain.public_notification(d, who["sub"], language) for d in docs],
                "page": page, "page_size": page_size, "total": total, "unread_count": unread}

    @rpc
    def mark_read(self, actor: dict, notification_id: str) -> dict:
        who = actor_of(actor)
        doc = self.store.get_visible(self._inboxes(who), notification_id)
        if doc is None:
            raise NotFound("no such notification")
        doc = self.store.mark_read(doc, who["sub"], self.clock.now(),
                                   self._days("NOTIFY_READ_RETENTION_DAYS"))
        language = self._prefs(who["sub"], who["role"])["language"]
        return domain.public_notification(doc, who["sub"], language)

    @rpc
    def mark_all_read(self, actor: dict) -> dict:
        who = actor_of(actor)
        inboxes = self._inboxes(who)
        marked = self.store.mark_all_read(inboxes, who["sub"], self.clock.now(),
                                          self._days("NOTIFY_READ_RETENTION_DAYS"))
        return {"marked": marked, "unread_count": self.store.unread_count(inboxes, who["sub"])}

    @rpc
    def notifications_since(self, actor: dict, after: int | None = None,
                            limit: int = 50) -> dict:
        """For the live stream: visible notifications with seq > ``after``, oldest first.

        Without ``after`` it only answers the current cursor (a new stream starts from now).
        Answered from memory when nothing is new, so idle streams cost one cheap call a poll.
        """
        who = actor_of(actor)
        if after is None:
            return {"cursor": self.store.current_seq(), "items": []}
        docs = self.store.since(self._inboxes(who), int(after), min(max(limit, 1), MAX_SINCE))
        if not docs:
            return {"cursor": int(after), "items": []}
        language = self._prefs(who["sub"], who["role"])["language"]
        return {"cursor": docs[-1]["seq"],
                "items": [domain.public_notification(d, who["sub"], language) for d in docs]}

    # preferences

    @rpc
    def get_preferences(self, actor: dict) -> dict:
        who = actor_of(actor)
        return self._public_prefs(self._prefs(who["sub"], who["role"]))

    @rpc
    def put_preferences(self, actor: dict, preferences: dict) -> dict:
        who = actor_of(actor)
        data = load_or_raise(schemas.PreferencesUpdateSchema(), preferences)
        current = self._prefs(who["sub"], who["role"])
        fields: dict[str, Any] = {"role": who["role"], "updated_at": self.clock.now()}
        for key in ("language", "time_zone", "quiet_hours", "phone", "email"):
            if key in data:
                fields[key] = data[key]
        if "channels" in data:
            fields["channels"] = {**current["channels"], **data["channels"]}
        if "home" in data:
            home = data["home"]
            if home is not None and who["role"] != "resident":
                raise InvalidInput("the request has invalid fields",
                                   {"home": ["only residents register a home"]})
            if home is None:
                fields.update(home=None, home_cell=None, community=None)
            else:
                community = notices.normalise_community(home["community"]) if home.get(
                    "community") else None
                loc = home["location"]
                fields.update(home={"location": loc, "community": community,
                                  "address": home.get("address")},
                              home_cell=cell_for(loc["lat"], loc["lng"]), community=community)
        self.store.put_preferences(who["sub"], fields)
        return self._public_prefs(self._prefs(who["sub"], who["role"]))

    @staticmethod
    def _public_prefs(prefs: dict) -> dict:
        return {k: prefs[k] for k in ("language", "time_zone", "channels", "quiet_hours",
                                      "phone", "email", "home")}

    # webhooks

    @rpc
    def create_webhook(self, actor: dict, webhook: dict) -> dict:
        who = actor_of(actor)
        if who["role"] == "resident":
            raise Forbidden("webhooks are for shops and property-management systems")
        data = load_or_raise(schemas.WebhookCreateSchema(), webhook)
        try:
            check_webhook_url(data["url"], insecure_hosts(self.config))
        except ValueError as exc:
            raise InvalidInput("the request has invalid fields", {"url": [str(exc)]}) from None
        doc = {"_id": new_id("whk"), "owner_id": who["sub"], "url": data["url"],
               "description": data.get("description"), "secret": secrets.token_urlsafe(32),
               "created_at": self.clock.now()}
        self.store.add_webhook(doc)
        return {**self._public_webhook(doc), "secret": doc["secret"]}

    @rpc
    def list_webhooks(self, actor: dict) -> dict:
        who = actor_of(actor)
        return {"items": [self._public_webhook(d) for d in self.store.webhooks_of(who["sub"])]}

    @rpc
    def delete_webhook(self, actor: dict, webhook_id: str) -> dict:
        who = actor_of(actor)
        if not self.store.delete_webhook(who["sub"], webhook_id):
            raise NotFound("no such webhook")
        return {"deleted": webhook_id}

    @staticmethod
    def _public_webhook(doc: dict) -> dict:
        return {"id": doc["_id"], "url": doc["url"], "description": doc.get("description"),
                "created_at": doc["created_at"].isoformat()}

    # deliveries (admin)

    @rpc
    def list_deliveries(self, actor: dict, status: str = "failed", channel: str | None = None,
                        page: int = 1, page_size: int = 20) -> dict:
        if actor_of(actor)["role"] != "admin":
            raise Forbidden("only admins see deliveries")
        query: dict[str, Any] = {"status": status}
        if channel:
            query["channel"] = channel
        docs, total = self.store.deliveries_page(query, (page - 1) * page_size, page_size)
        return {"items": [domain.public_delivery(d) for d in docs], "page": page,
                "page_size": page_size, "total": total}

    @rpc
    def get_delivery(self, actor: dict, delivery_id: str) -> dict:
        if actor_of(actor)["role"] != "admin":
            raise Forbidden("only admins see deliveries")
        doc = self.store.get_delivery(delivery_id)
        if doc is None:
            raise NotFound("no such delivery")
        return domain.public_delivery(doc)

    @rpc
    def retry_delivery(self, actor: dict, delivery_id: str) -> dict:
        if actor_of(actor)["role"] != "admin":
            raise Forbidden("only admins retry deliveries")
        doc = self.store.retry_failed(delivery_id, self.clock.now())
        if doc is None:
            raise NotFound("no failed delivery with that id")
        return domain.public_delivery(doc)

    # community notices

    @rpc
    def create_notice(self, actor: dict, notice: dict, idempotency_key: str | None = None
                      ) -> dict:
        who = actor_of(actor)
        if who["role"] not in ("planner", "admin"):
            raise Forbidden("only planners post community notices")
        data = load_or_raise(schemas.NoticeCreateSchema(), notice)
        key = idempotency.scoped_key(who["sub"], idempotency_key) if idempotency_key else None
        if key is not None:
            # A retried POST must not send a second notice to every home in the circle.
            existing = self.store.notice_by_key(key)
            if existing is not None:
                idempotency.check_replay(existing["fingerprint"], notice, "notice")
                return notices.public_notice(existing)
        now = self.clock.now()
        model = self._walk_model()
        doc = notices.new_notice(who, data, model, now)
        if doc["audience"]["kind"] == "walk":
            candidates = self.store.homes_in_cells(notices.audience_cells(doc))
            homes = notices.residents_in_walk(doc, [c for c in candidates if c.get("home")],
                                              model)
        else:
            homes = self.store.homes_in_communities(doc["audience"]["communities"])
        # The audience is fixed now; the fan-out is resumable: part of it here, the rest (a
        # large audience, or a crash midway) by the timer, idempotently by notification id.
        audience = [h["_id"] for h in homes if h.get("role", "resident") == "resident"]
        doc.update(recipients=len(audience), audience_ids=audience, fanout_done=0,
                   fanout_pending=bool(audience))
        if key is not None:
            doc.update(idempotency_key=key, fingerprint=idempotency.fingerprint(notice))
        if not self.store.add_notice(doc):  # the same key, a moment earlier
            existing = self.store.notice_by_key(key)
            idempotency.check_replay(existing["fingerprint"], notice, "notice")
            return notices.public_notice(existing)
        self._fan_out(doc, setting(self.config, "NOTIFY_NOTICE_INLINE"))
        return notices.public_notice(doc)

    @rpc
    def list_notices(self, lat: float | None = None, lng: float | None = None,
                     community: str | None = None) -> dict:
        now = self.clock.now()
        found = [d for d in self.store.active_notices()
                 if notices.is_current(d, now) and notices.covers(d, lat, lng, community)]
        return {"items": [notices.public_notice(d) for d in found]}

    def _fan_out(self, notice: dict, budget: int) -> int:
        """Put the notice in the next ``budget`` inboxes of its audience."""
        start = notice["fanout_done"]
        batch = notice["audience_ids"][start:start + budget]
        now = self.clock.now()
        tz = common_setting(self.config, "CITY_TZ")
        for resident in batch:
            prefs = prefs_mod.effective(self.store.get_preferences(resident), "resident", tz)
            doc = domain.notice_notification(notice, resident, prefs, now,
                                             self._days("NOTIFY_ROLE_RETENTION_DAYS"))
            self._store_with_deliveries(doc, prefs, now)
        done = start + len(batch)
        self.store.advance_fanout(notice["_id"], done, done >= len(notice["audience_ids"]))
        notice["fanout_done"] = done
        return len(batch)

    # background work: releases after quiet hours, channel deliveries, expiry

    @timer(interval=TIMER_SECONDS)
    def work_due(self) -> dict | None:
        now = self.clock.now()
        done = {
            "released": self.store.release_held(now),
            "recovered": self.store.recover_stale(now),
            "attempted": self._send_due(now),
            "notice_inboxes": sum(self._fan_out(n, setting(self.config, "NOTIFY_NOTICE_BATCH"))
                                  for n in self.store.unfinished_fanouts()),
            "expired": self._sweep(now),
        }
        return done if any(done.values()) else None

    def _send_due(self, now: datetime) -> int:
        due = self.store.due_deliveries(now, SEND_BATCH)
        if not due:
            return 0
        pool = eventlet.GreenPool(SEND_CONCURRENCY)
        return sum(1 for sent in pool.imap(lambda d: self._send_one(d["_id"], now), due) if sent)

    def _send_one(self, delivery_id: str, now: datetime) -> bool:
        lease = timedelta(seconds=setting(self.config, "NOTIFY_SEND_LEASE_SECONDS"))
        delivery = self.store.claim(delivery_id, now, lease)
        if delivery is None:
            return False
        max_attempts = setting(self.config, "NOTIFY_MAX_ATTEMPTS")
        to = dict(delivery["to"])
        started = time.perf_counter()
        error: str | None = None
        if delivery["channel"] == "webhook":
            hook = self.store.get_webhook(to["webhook_id"])
            if hook is None:
                error = "the webhook was removed"
                max_attempts = 1  # nothing to retry against
            else:
                to = {"url": hook["url"], "secret": hook["secret"]}
        if error is None:
            try:
                self.channels[delivery["channel"]].send(to, delivery["message"])
            except DeliveryError as exc:
                error = str(exc) or "delivery failed"
            except Exception as exc:  # a provider bug is still a failed attempt, recorded
                error = f"{type(exc).__name__}: {exc}"[:300]
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        update = domain.after_attempt(
            delivery, self.clock.now(), error, duration_ms, max_attempts,
            setting(self.config, "NOTIFY_RETRY_BASE_SECONDS"),
            setting(self.config, "NOTIFY_RETRY_MAX_SECONDS"))
        self.store.record_attempt(delivery_id, update)
        return True

    def _sweep(self, now: datetime) -> int:
        """Once a minute: delete expired read notifications by their indexed day bucket
        (see store.py) and retire expired notices."""
        last = self.store.last_sweep
        if last is not None and now - last < SWEEP_EVERY:
            return 0
        span = 400 if last is None else min(400, (now - last).days + 2)
        days = [domain.expire_day(now - timedelta(days=i)) for i in range(span)]
        deleted = self.store.delete_expired(days, now)
        deleted += self.store.retire_notices(now)
        self.store.last_sweep = now
        return deleted


def _handler(source: str, event_type: str):
    @event_handler(source, event_type)
    def handle(self: NotifyService, payload: dict) -> int:
        return self._deliver(payload, event_type)

    handle.__name__ = f"on_{event_type}"
    return handle


for _event_type in ROUTES:
    setattr(NotifyService, f"on_{_event_type}", _handler(SOURCES[_event_type], _event_type))
