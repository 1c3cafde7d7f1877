"""The documents notify stores: which notifications are held in quiet hours, which channels a
message takes, and how a shared dispatcher notification reads per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notify import domain, records
from services.notify.routing import DISPATCHER_INBOX, Audience

SHANGHAI_NIGHT = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
SHANGHAI_DAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
CITY_TZ = "Asia/Shanghai"  # the city's time zone (the CITY_TZ setting) in these tests


def _event(event_type: str, data: dict) -> dict:
    return {"id": "evt_1", "type": event_type, "correlation_id": "rep_1", "data": data}


REPAIR = {"repair_id": "rep_" + "1" * 32, "resident_id": "resident-li",
          "technician_id": "tec_1", "technician_name": "张师傅", "skill": "plumbing",
          "status": "arrived", "previous_status": "accepted",
          "requested_at": "2026-11-29T15:00:00+00:00", "due_by": "2026-11-29T15:15:00+00:00",
          "eta_minutes": None, "reason": None, "by": None, "rating": None, "comment": None}


def test_quiet_hours_hold_a_non_urgent_message_and_let_an_urgent_one_through():
    p = domain.defaults_for("resident", CITY_TZ)
    held = records.event_notification(_event("repair_completed", REPAIR),
                                      Audience("resident", "repairs"), "resident-li", p,
                                      SHANGHAI_NIGHT, timedelta(days=30))
    urgent = records.event_notification(_event("technician_arrived", REPAIR),
                                        Audience("resident", "repairs", urgent=True),
                                        "resident-li", p, SHANGHAI_NIGHT, timedelta(days=30))
    assert held["held"] and held["release_at"] == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert not urgent["held"] and urgent["release_at"] is None


def test_sms_waits_for_quiet_hours_to_end_but_a_webhook_goes_at_once():
    merchant = domain.defaults_for("merchant", CITY_TZ)
    p = {**merchant, "quiet_hours": {"start": "22:00", "end": "07:00"},
         "phone": "13800000000", "channels": {**merchant["channels"],
                                              "orders": ["inbox", "sms", "webhook"]}}
    doc = records.inbox_doc(notification="ntf_1", recipient_id="merchant-a", category="orders",
                            event_type="order_confirmed", event_id="evt_1",
                            correlation_id="ord_1", urgent=False,
                            texts={"zh-CN": {"title": "t", "body": "b"}}, now=SHANGHAI_NIGHT,
                            hold_until=domain.quiet_until(p, SHANGHAI_NIGHT),
                            role_retention=timedelta(days=30))
    out = {d["channel"]: d for d in records.deliveries_for(doc, p, [{"_id": "whk_1"}],
                                                            SHANGHAI_NIGHT)}
    assert out["sms"]["next_attempt_at"] == doc["release_at"]
    assert out["webhook"]["next_attempt_at"] == SHANGHAI_NIGHT
    assert out["sms"]["to"] == {"phone": "13800000000"}


def test_no_sms_without_a_phone_and_none_for_the_dispatchers_shared_inbox():
    p = domain.defaults_for("resident", CITY_TZ)
    doc = records.inbox_doc(notification="ntf_1", recipient_id="resident-li",
                            category="repairs", event_type="repair_completed", event_id="e",
                            correlation_id="c", urgent=False, texts={"zh-CN": {"title": "t",
                                                                               "body": "b"}},
                            now=SHANGHAI_DAY, hold_until=None, role_retention=timedelta(1))
    assert records.deliveries_for(doc, p, [], SHANGHAI_DAY) == []
    shared = {**doc, "recipient_id": DISPATCHER_INBOX, "shared": True}
    assert records.deliveries_for(shared, {**p, "phone": "13800000000"}, [], SHANGHAI_DAY) == []


def test_a_shared_dispatcher_notification_is_read_per_person():
    doc = records.inbox_doc(notification="ntf_1", recipient_id=DISPATCHER_INBOX,
                            category="repairs", event_type="sla_breached", event_id="e",
                            correlation_id="c", urgent=True,
                            texts={"zh-CN": {"title": "t", "body": "b"},
                                   "en": {"title": "T", "body": "B"}},
                            now=SHANGHAI_DAY, hold_until=None, role_retention=timedelta(1))
    doc = {**doc, "read_by": ["dispatcher-a"], "seq": 5}
    assert records.public_notification(doc, "dispatcher-a", "en")["read"] is True
    assert records.public_notification(doc, "dispatcher-b", "zh-CN")["read"] is False
    assert records.public_notification(doc, "dispatcher-b", "en")["title"] == "T"
