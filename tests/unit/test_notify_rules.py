"""Preferences, quiet hours, retries with back-off, and which channels a message takes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from services.notify import domain
from services.notify import preferences as prefs
from services.notify.routing import DISPATCHER_INBOX, Audience

SHANGHAI_NIGHT = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
SHANGHAI_DAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


def _event(event_type: str, data: dict) -> dict:
    return {"id": "evt_1", "type": event_type, "correlation_id": "rep_1", "data": data}


REPAIR = {"repair_id": "rep_" + "1" * 32, "resident_id": "resident-li",
          "technician_id": "tec_1", "technician_name": "张师傅", "skill": "plumbing",
          "status": "arrived", "previous_status": "accepted",
          "requested_at": "2026-11-29T15:00:00+00:00", "due_by": "2026-11-29T15:15:00+00:00",
          "eta_minutes": None, "reason": None, "by": None, "rating": None, "comment": None}


def test_residents_get_a_quiet_night_and_sms_for_repairs_by_default():
    resident = prefs.defaults_for("resident")
    assert resident["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert resident["channels"]["repairs"] == ["inbox", "sms"]
    assert resident["channels"]["marketing"] == []
    assert prefs.defaults_for("dispatcher")["quiet_hours"] is None
    assert "webhook" in prefs.defaults_for("merchant")["channels"]["orders"]


def test_the_inbox_stays_on_whatever_a_person_saves():
    saved = {"channels": {"orders": ["sms"]}, "language": "en"}
    effective = prefs.effective(saved, "resident")
    assert effective["channels"]["orders"] == ["inbox", "sms"]
    assert effective["language"] == "en"
    assert effective["channels"]["repairs"] == ["inbox", "sms"]  # untouched default


def test_quiet_hours_across_midnight_end_the_next_local_morning():
    p = prefs.defaults_for("resident")
    until = prefs.quiet_until(p, SHANGHAI_NIGHT)
    assert until == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # 07:00 on the 30th, Shanghai
    early = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)  # 05:00 on the 30th in Shanghai
    assert prefs.quiet_until(p, early) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert prefs.quiet_until(p, SHANGHAI_DAY) is None


def test_quiet_hours_follow_the_persons_time_zone():
    p = {**prefs.defaults_for("resident"), "time_zone": "Europe/London"}
    assert prefs.quiet_until(p, SHANGHAI_NIGHT) is None  # 15:30 in London


def test_quiet_hours_hold_a_non_urgent_message_and_let_an_urgent_one_through():
    p = prefs.defaults_for("resident")
    held = domain.event_notification(_event("repair_completed", REPAIR),
                                     Audience("resident", "repairs"), "resident-li", p,
                                     SHANGHAI_NIGHT, timedelta(days=30))
    urgent = domain.event_notification(_event("technician_arrived", REPAIR),
                                       Audience("resident", "repairs", urgent=True),
                                       "resident-li", p, SHANGHAI_NIGHT, timedelta(days=30))
    assert held["held"] and held["release_at"] == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert not urgent["held"] and urgent["release_at"] is None


def test_sms_waits_for_quiet_hours_to_end_but_a_webhook_goes_at_once():
    p = {**prefs.defaults_for("merchant"), "quiet_hours": {"start": "22:00", "end": "07:00"},
         "phone": "13800000000", "channels": {**prefs.defaults_for("merchant")["channels"],
                                              "orders": ["inbox", "sms", "webhook"]}}
    doc = domain.inbox_doc(notification="ntf_1", recipient_id="merchant-a", category="orders",
                           event_type="order_confirmed", event_id="evt_1",
                           correlation_id="ord_1", urgent=False,
                           texts={"zh-CN": {"title": "t", "body": "b"}}, now=SHANGHAI_NIGHT,
                           hold_until=prefs.quiet_until(p, SHANGHAI_NIGHT),
                           role_retention=timedelta(days=30))
    out = {d["channel"]: d for d in domain.deliveries_for(doc, p, [{"_id": "whk_1"}],
                                                           SHANGHAI_NIGHT)}
    assert out["sms"]["next_attempt_at"] == doc["release_at"]
    assert out["webhook"]["next_attempt_at"] == SHANGHAI_NIGHT
    assert out["sms"]["to"] == {"phone": "13800000000"}


def test_no_sms_without_a_phone_and_none_for_the_dispatchers_shared_inbox():
    p = prefs.defaults_for("resident")
    doc = domain.inbox_doc(notification="ntf_1", recipient_id="resident-li",
                           category="repairs", event_type="repair_completed", event_id="e",
                           correlation_id="c", urgent=False, texts={"zh-CN": {"title": "t",
                                                                              "body": "b"}},
                           now=SHANGHAI_DAY, hold_until=None, role_retention=timedelta(1))
    assert domain.deliveries_for(doc, p, [], SHANGHAI_DAY) == []
    shared = {**doc, "recipient_id": DISPATCHER_INBOX, "shared": True}
    assert domain.deliveries_for(shared, {**p, "phone": "13800000000"}, [], SHANGHAI_DAY) == []


def test_retry_delays_grow_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    delays = [domain.retry_delay(n, 30, 3600, rng).total_seconds() for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(3600, 30 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert delays[4] > delays[0]
    assert max(delays) <= 3600


def test_a_delivery_is_marked_failed_after_the_last_attempt_never_dropped():
    now = SHANGHAI_DAY
    delivery = {"attempt_count": 0}
    first = domain.after_attempt(delivery, now, "HTTP 500", 3.0, 3, 30, 3600)
    assert first["$set"]["status"] == "pending" and first["$set"]["next_attempt_at"] > now
    assert first["$push"]["attempts"]["error"] == "HTTP 500"
    last = domain.after_attempt({"attempt_count": 2}, now, "HTTP 500", 3.0, 3, 30, 3600)
    assert last["$set"]["status"] == "failed" and last["$set"]["next_attempt_at"] is None
    ok = domain.after_attempt({"attempt_count": 1}, now, None, 3.0, 3, 30, 3600)
    assert ok["$set"]["status"] == "sent"


def test_a_shared_dispatcher_notification_is_read_per_person():
    doc = domain.inbox_doc(notification="ntf_1", recipient_id=DISPATCHER_INBOX,
                           category="repairs", event_type="sla_breached", event_id="e",
                           correlation_id="c", urgent=True,
                           texts={"zh-CN": {"title": "t", "body": "b"},
                                  "en": {"title": "T", "body": "B"}},
                           now=SHANGHAI_DAY, hold_until=None, role_retention=timedelta(1))
    doc = {**doc, "read_by": ["dispatcher-a"], "seq": 5}
    assert domain.public_notification(doc, "dispatcher-a", "en")["read"] is True
    assert domain.public_notification(doc, "dispatcher-b", "zh-CN")["read"] is False
    assert domain.public_notification(doc, "dispatcher-b", "en")["title"] == "T"


def test_the_timer_skips_its_scan_until_something_is_due_and_rescans_after_a_race():
    from services.notify.store import NextDue

    due = NextDue()
    assert not due.nothing_due(SHANGHAI_DAY)  # unknown at start-up: scan
    version = due.version
    due.settle(version, SHANGHAI_DAY + timedelta(hours=1), complete=True)
    assert due.nothing_due(SHANGHAI_DAY)
    due.note(SHANGHAI_DAY - timedelta(seconds=1))  # a retry became due earlier
    assert not due.nothing_due(SHANGHAI_DAY)
    version = due.version
    due.note(SHANGHAI_DAY + timedelta(hours=5))  # added while a scan was running
    due.settle(version, None, complete=True)
    assert not due.nothing_due(SHANGHAI_DAY)  # unknown again: the next tick scans
