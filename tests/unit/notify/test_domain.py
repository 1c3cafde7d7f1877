"""Notify's rules: preferences per role, quiet hours, retries with back-off, and the ids that
make a redelivered event harmless."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from services.notify import domain

SHANGHAI_NIGHT = datetime(2026, 11, 29, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
SHANGHAI_DAY = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
CITY_TZ = "Asia/Shanghai"  # the city's time zone (the CITY_TZ setting) in these tests


def test_residents_get_a_quiet_night_and_sms_for_repairs_by_default():
    resident = domain.defaults_for("resident", CITY_TZ)
    assert resident["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert resident["channels"]["repairs"] == ["inbox", "sms"]
    assert resident["channels"]["marketing"] == []
    assert domain.defaults_for("dispatcher", CITY_TZ)["quiet_hours"] is None
    assert "webhook" in domain.defaults_for("merchant", CITY_TZ)["channels"]["orders"]


def test_the_inbox_stays_on_whatever_a_person_saves():
    saved = {"channels": {"orders": ["sms"]}, "language": "en"}
    effective = domain.effective(saved, "resident", CITY_TZ)
    assert effective["channels"]["orders"] == ["inbox", "sms"]
    assert effective["language"] == "en"
    assert effective["channels"]["repairs"] == ["inbox", "sms"]  # untouched default


def test_quiet_hours_across_midnight_end_the_next_local_morning():
    p = domain.defaults_for("resident", CITY_TZ)
    until = domain.quiet_until(p, SHANGHAI_NIGHT)
    assert until == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # 07:00 on the 30th, Shanghai
    early = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)  # 05:00 on the 30th in Shanghai
    assert domain.quiet_until(p, early) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert domain.quiet_until(p, SHANGHAI_DAY) is None


def test_quiet_hours_follow_the_persons_time_zone():
    p = {**domain.defaults_for("resident", CITY_TZ), "time_zone": "Europe/London"}
    assert domain.quiet_until(p, SHANGHAI_NIGHT) is None  # 15:30 in London


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


def test_the_same_event_gives_the_same_notification_id_per_recipient():
    a = domain.notification_id("evt_1", "resident-a")
    assert a == domain.notification_id("evt_1", "resident-a")
    assert a != domain.notification_id("evt_1", "resident-b")
    assert a != domain.notification_id("evt_2", "resident-a")
