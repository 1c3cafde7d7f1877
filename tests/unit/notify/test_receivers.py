"""A slow or failing webhook receiver delays nobody else (issue 10, item 10): webhooks have
their own pool, each receiver a few sends in flight at most and a circuit breaker, and the
timer never waits for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import pytest

from services.notify import delivery
from services.notify.channels import DeliveryError
from services.notify.receivers import ReceiverGate, WebhookLane
from services.notify.store import NotifyStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_receiver_has_a_few_sends_in_flight_at_most():
    gate = ReceiverGate(per_receiver=2, breaker_failures=5, breaker_s=60, monotonic=FakeClock())
    gate.started("slow")
    gate.started("slow")
    assert gate.refusal("slow") == "busy"
    assert gate.refusal("other") is None
    gate.finished("slow", ok=True)
    assert gate.refusal("slow") is None


def test_a_failing_receiver_is_left_alone_then_tried_once_more():
    clock = FakeClock()
    gate = ReceiverGate(per_receiver=2, breaker_failures=3, breaker_s=60, monotonic=clock)
    for _ in range(3):
        gate.started("down")
        gate.finished("down", ok=False)
    assert gate.refusal("down") == "open" and gate.wait_s("down") == 60
    clock.now = 61
    assert gate.refusal("down") is None  # half open: one try
    gate.started("down")
    assert gate.refusal("down") == "busy"
    gate.finished("down", ok=False)
    assert gate.refusal("down") == "open"  # failed again: another minute
    clock.now = 122
    gate.started("down")
    gate.finished("down", ok=True)
    assert gate.refusal("down") is None and gate.failures == {}


class Channels:
    """An SMS provider that answers at once; webhooks that hang (``slow``) or fail."""

    def __init__(self):
        self.sms, self.webhooks = [], []
        self.release = eventlet.Event()

    def build(self):
        outer = self

        class Sms:
            name = "sms"

            def send(self, to, message):
                outer.sms.append(to["phone"])

        class Hook:
            name = "webhook"

            def send(self, to, message):
                outer.webhooks.append(to["url"])
                if "slow" in to["url"]:
                    outer.release.wait()  # until the test lets it answer
                if "down" in to["url"]:
                    raise DeliveryError("HTTP 503")

        return {"sms": Sms(), "email": Sms(), "webhook": Hook()}


def _delivery(ident, channel, to):
    return {"_id": ident, "notification_id": "ntf_x", "recipient_id": "someone",
            "channel": channel, "to": to, "message": {"id": ident, "title": "t"},
            "status": "pending", "attempts": [], "attempt_count": 0,
            "next_attempt_at": NOW, "lease_until": None, "last_error": None,
            "created_at": NOW, "updated_at": NOW}


@pytest.fixture
def store(open_store):
    return open_store("notify", NotifyStore)


POLICY = delivery.RetryPolicy(timedelta(seconds=60), 6, 30.0, 3600.0)


def test_a_slow_receiver_delays_neither_sms_nor_other_receivers(store):
    for hook, url in (("whk_slow", "https://slow.example.com/x"),
                      ("whk_fine", "https://fine.example.com/x")):
        store.webhooks.add({"_id": hook, "owner_id": "shop", "url": url, "secret": "s" * 32,
                            "created_at": NOW})
    for i in range(30):  # a backlog for the slow receiver
        store.deliveries.add(_delivery(f"dlv_slow{i}", "webhook", {"webhook_id": "whk_slow"}))
    store.deliveries.add(_delivery("dlv_fine", "webhook", {"webhook_id": "whk_fine"}))
    store.deliveries.add(_delivery("dlv_sms", "sms", {"phone": "+8613800000000"}))
    fake = Channels()
    lane = WebhookLane(concurrency=20, gate=ReceiverGate(2, 5, 60), postpone_s=1.0)

    with eventlet.Timeout(10):  # the tick does not wait for the slow receiver
        delivery.send_due(store, fake.build(), POLICY, NOW, lambda: NOW, lane)
    lane_done = eventlet.spawn(lane.wait_idle, 10)
    eventlet.sleep(0.2)  # the lane's green threads get to run
    assert fake.sms == ["+8613800000000"]
    assert store.deliveries.get("dlv_sms")["status"] == "sent"
    assert store.deliveries.get("dlv_fine")["status"] == "sent"
    assert fake.webhooks.count("https://slow.example.com/x") == 2  # its limit, no more
    postponed = store.deliveries.get("dlv_slow29")
    assert postponed["status"] == "pending" and postponed["attempt_count"] == 0
    assert postponed["next_attempt_at"] > NOW
    fake.release.send()
    lane_done.wait()


def test_a_failing_receiver_trips_its_breaker_and_its_deliveries_wait_untried(store):
    store.webhooks.add({"_id": "whk_down", "owner_id": "shop", "url": "https://down.example.com",
                        "secret": "s" * 32, "created_at": NOW})
    for i in range(6):
        store.deliveries.add(_delivery(f"dlv_d{i}", "webhook", {"webhook_id": "whk_down"}))
    fake = Channels()
    lane = WebhookLane(concurrency=20, gate=ReceiverGate(1, 2, 60), postpone_s=1.0)
    moment = NOW
    for _ in range(4):  # ticks, each after the last one's sends finished
        delivery.send_due(store, fake.build(), POLICY, moment, lambda m=moment: m, lane)
        lane.wait_idle(10)
        moment += timedelta(seconds=2)
    assert len(fake.webhooks) == 2  # then the breaker opened
    waiting = [store.deliveries.get(f"dlv_d{i}") for i in range(6)]
    untried = [d for d in waiting if d["attempt_count"] == 0]
    assert len(untried) == 4
    assert all(d["next_attempt_at"] >= NOW + timedelta(seconds=59) for d in untried)
