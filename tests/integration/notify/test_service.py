"""The notify service on real RabbitMQ: order and repair events become notifications once,
quiet hours hold what can wait, webhooks are signed and retried with back-off, and a
community notice reaches exactly its audience. Time moves through the service clock."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook, entrypoint_waiter

from services.common.clock import ClockProvider
from services.common.errors import InvalidInput
from services.common.events import make_event
from services.notify import signing
from services.notify.service import NotifyService
from tests.helpers import unique, wait_for

DISPATCHER = {"sub": "dispatcher-a", "role": "dispatcher"}
PLANNER = {"sub": "planner-a", "role": "planner"}
ADMIN = {"sub": "admin-a", "role": "admin"}
CENTRE = {"lat": 30.5801, "lng": 114.2701}


@pytest.fixture
def notify(container_factory, service_config):
    config = {**service_config, "NOTIFY_WEBHOOK_INSECURE_HOSTS": "127.0.0.1",
              "NOTIFY_RETRY_BASE_SECONDS": 60, "NOTIFY_MAX_ATTEMPTS": 3}
    container = container_factory(NotifyService, config)
    container.start()
    container.test_config = config
    # Residents' default quiet hours (22:00-07:00 in the city) would hold non-urgent messages:
    # run at the city's midday whatever the hour, so no test depends on when it runs.
    clock = clock_of(container)
    local = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    clock.offset = noon + (timedelta(days=1) if noon < local else timedelta(0)) - local
    return container


def clock_of(container):
    return next(e for e in container.extensions if isinstance(e, ClockProvider)).clock


def rpc(container):
    return ServiceRpcProxy("notify", container.test_config)


def order_event(event_type: str, resident: str, merchant_owner: str | None, **extra) -> dict:
    data = {"order_id": "ord_" + "c0ffee12" * 4, "resident_id": resident,
            "merchant_id": "mer_" + "1" * 32, "merchant_owner_id": merchant_owner,
            "merchant_name": "惠民便利店", "status": "confirmed", "previous_status": "pending",
            "items": [{"product_id": "prd_" + "2" * 32, "quantity": 2}], "total_fen": 2590,
            "reason": None, "by": None, **extra}
    return make_event(event_type, data, source="orders", correlation_id=data["order_id"])


def repair_event(event_type: str, resident: str, **extra) -> dict:
    data = {"repair_id": "rep_" + "3" * 32, "resident_id": resident, "technician_id": "tec_1",
            "technician_name": "张师傅", "skill": "plumbing", "status": "arrived",
            "previous_status": "accepted", "requested_at": "2026-11-29T02:00:00+00:00",
            "due_by": "2026-11-29T02:15:00+00:00", "eta_minutes": 4.0, "reason": None,
            "by": None, "rating": None, "comment": None, **extra}
    return make_event(event_type, data, source="dispatch", correlation_id=data["repair_id"])


def publish(container, source: str, event: dict, handler: str | None = None) -> None:
    dispatch = event_dispatcher(container.test_config)
    with entrypoint_waiter(container, handler or f"on_{event['type']}"):
        dispatch(source, event["type"], event)


def inbox(container, who: dict) -> dict:
    with rpc(container) as notify:
        return notify.list_notifications(actor=who, page_size=100)


def test_order_events_reach_the_resident_and_the_shop_newest_first(notify):
    resident, merchant = unique("resident"), unique("merchant")
    publish(notify, "orders", order_event("order_confirmed", resident, merchant))
    publish(notify, "orders", order_event("order_accepted", resident, merchant,
                                          status="accepted", previous_status="confirmed"))
    mine = inbox(notify, {"sub": resident, "role": "resident"})
    assert [n["event_type"] for n in mine["items"]] == ["order_accepted", "order_confirmed"]
    assert mine["unread_count"] == 2
    assert "25.90 元" in mine["items"][1]["body"]
    shop = inbox(notify, {"sub": merchant, "role": "merchant"})
    assert [n["title"] for n in shop["items"]] == ["新订单 C0FFEE12"]


def test_a_duplicate_event_gives_one_notification_per_recipient_and_channel(notify):
    resident, merchant = unique("resident"), unique("merchant")
    with rpc(notify) as service:
        service.put_preferences(actor={"sub": resident, "role": "resident"},
                                preferences={"phone": "13800000001", "quiet_hours": None,
                                             "channels": {"orders": ["inbox", "sms"]}})
    event = order_event("order_cancelled", resident, merchant, status="cancelled")
    publish(notify, "orders", event)
    publish(notify, "orders", event)
    assert inbox(notify, {"sub": resident, "role": "resident"})["total"] == 1
    assert inbox(notify, {"sub": merchant, "role": "merchant"})["total"] == 1
    with entrypoint_hook(notify, "work_due") as work:
        work()
    with rpc(notify) as service:
        sent = service.list_deliveries(actor=ADMIN, status="sent", channel="sms")
    assert [d["recipient_id"] for d in sent["items"]].count(resident) == 1


def test_dispatchers_share_a_role_inbox_with_their_own_read_state(notify):
    publish(notify, "dispatch", repair_event("sla_breached", unique("resident")))
    first, second = DISPATCHER, {"sub": "dispatcher-b", "role": "dispatcher"}
    seen = inbox(notify, first)["items"]
    assert [n["event_type"] for n in seen] == ["sla_breached"] and seen[0]["shared"]
    with rpc(notify) as service:
        service.mark_read(actor=first, notification_id=seen[0]["id"])
    assert inbox(notify, first)["unread_count"] == 0
    assert inbox(notify, second)["unread_count"] == 1


def test_quiet_hours_hold_a_non_urgent_message_and_let_an_urgent_one_through(notify):
    resident = {"sub": unique("resident"), "role": "resident"}
    local_now = clock_of(notify).now().astimezone(ZoneInfo("Asia/Shanghai"))
    start = (local_now - timedelta(hours=1)).strftime("%H:%M")
    end = (local_now + timedelta(hours=2)).strftime("%H:%M")
    with rpc(notify) as service:
        service.put_preferences(actor=resident,
                                preferences={"quiet_hours": {"start": start, "end": end}})
    publish(notify, "dispatch", repair_event("repair_completed", resident["sub"]))
    publish(notify, "dispatch", repair_event("technician_arrived", resident["sub"]))
    assert [n["event_type"] for n in inbox(notify, resident)["items"]] == [
        "technician_arrived"]

    clock_of(notify).offset += timedelta(hours=2, minutes=1)
    with entrypoint_hook(notify, "work_due") as work:
        work()
    assert [n["event_type"] for n in inbox(notify, resident)["items"]] == [
        "repair_completed", "technician_arrived"]


class FlakyReceiver:
    """A real HTTP endpoint on 127.0.0.1 that fails the first ``failures`` calls."""

    def __init__(self, failures: int):
        self.failures, self.calls, self.secret = failures, [], None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    delivery = signing.verify(receiver.secret, dict(self.headers), body)
                    verified = True
                except signing.SignatureError:
                    delivery, verified = None, False
                receiver.calls.append({"verified": verified, "delivery": delivery,
                                       "body": json.loads(body)})
                status = 500 if len(receiver.calls) <= receiver.failures else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/lifecircle"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _delivery(notify, status):
    with rpc(notify) as service:
        return service.list_deliveries(actor=ADMIN, status=status, channel="webhook")["items"]


def _order_for_a_shop_with_webhook(notify, receiver):
    """A shop registers the receiver as its webhook, then an order to it is confirmed."""
    merchant = {"sub": unique("merchant"), "role": "merchant"}
    with rpc(notify) as service:
        hook = service.create_webhook(actor=merchant, webhook={"url": receiver.url})
    receiver.secret = hook["secret"]
    publish(notify, "orders", order_event("order_confirmed", unique("resident"),
                                          merchant["sub"]))


def test_a_webhook_that_fails_twice_is_retried_with_backoff_until_it_succeeds(notify):
    receiver = FlakyReceiver(failures=2)
    try:
        _order_for_a_shop_with_webhook(notify, receiver)
        clock = clock_of(notify)
        waits = []
        for attempt in (1, 2, 3):
            with entrypoint_hook(notify, "work_due") as work:
                work()
            wait_for(lambda n=attempt: len(receiver.calls) >= n, what=f"attempt {attempt}")
            if attempt < 3:
                pending = wait_for(lambda: _delivery(notify, "pending"), what="a retry")
                due = datetime.fromisoformat(pending[0]["next_attempt_at"])
                waits.append((due - clock.now()).total_seconds())
                clock.offset += due - clock.now() + timedelta(seconds=1)
        sent = wait_for(lambda: _delivery(notify, "sent"), what="the delivery to succeed")
    finally:
        receiver.close()
    assert [c["verified"] for c in receiver.calls] == [True, True, True]
    assert len({c["delivery"] for c in receiver.calls}) == 1  # one id for the receiver
    assert receiver.calls[0]["body"]["title"].startswith("新订单")
    assert [a["ok"] for a in sent[0]["attempts"]] == [False, False, True]
    # Back-off: about 60 s (30..60 with jitter) before the 2nd try, 60..120 s before the 3rd.
    assert 29 <= waits[0] <= 60 and 59 <= waits[1] <= 120


def test_a_webhook_that_never_answers_is_marked_failed_for_admins(notify):
    receiver = FlakyReceiver(failures=99)
    try:
        _order_for_a_shop_with_webhook(notify, receiver)
        clock = clock_of(notify)
        for attempt in (1, 2, 3):
            clock.offset += timedelta(hours=1)
            with entrypoint_hook(notify, "work_due") as work:
                work()
            wait_for(lambda n=attempt: len(receiver.calls) >= n, what=f"attempt {attempt}")
        failed = wait_for(lambda: _delivery(notify, "failed"), what="a failed delivery")
    finally:
        receiver.close()
    assert failed[0]["attempt_count"] == 3 and failed[0]["last_error"] == "HTTP 500"


def test_a_webhook_must_be_https_except_to_allowed_test_hosts(notify):
    with rpc(notify) as service, pytest.raises(InvalidInput):
        service.create_webhook(actor={"sub": "merchant-x", "role": "merchant"},
                               webhook={"url": "http://example.com/hook"})


def _resident_at(notify, lat, lng, community=None):
    who = {"sub": unique("resident"), "role": "resident"}
    with rpc(notify) as service:
        service.put_preferences(actor=who, preferences={
            "quiet_hours": None,
            "home": {"location": {"lat": lat, "lng": lng}, "community": community}})
    return who


def test_a_notice_reaches_exactly_the_residents_within_its_walk(notify):
    near = _resident_at(notify, 30.5806, 114.2712)  # ~120 m
    edge = _resident_at(notify, 30.5840, 114.2701)  # ~430 m: 7.5 min walk
    far = _resident_at(notify, 30.5950, 114.2701)  # ~1.7 km
    with rpc(notify) as service:
        notice = service.create_notice(actor=PLANNER, notice={
            "title": "停水通知", "body": "明天 9:00-12:00 民意街停水。",
            "audience": {"near": {"location": CENTRE, "walk_minutes": 10}}})
        listed = service.list_notices(lat=30.5806, lng=114.2712)
        elsewhere = service.list_notices(lat=30.6500, lng=114.2701)
    assert notice["recipients"] == 2
    for who, expected in ((near, 1), (edge, 1), (far, 0)):
        got = [n for n in inbox(notify, who)["items"] if n["correlation_id"] == notice["id"]]
        assert len(got) == expected, who
    assert notice["id"] in [n["id"] for n in listed["items"]]
    assert notice["id"] not in [n["id"] for n in elsewhere["items"]]


def test_a_notice_to_communities_reaches_their_residents_only(notify):
    community = unique("民意街社区")
    inside = _resident_at(notify, 30.58, 114.27, community)
    other = _resident_at(notify, 30.58, 114.27, unique("other"))
    with rpc(notify) as service:
        notice = service.create_notice(actor=PLANNER, notice={
            "title": "社区义诊", "body": "周六上午社区服务中心义诊。",
            "audience": {"communities": [community]},
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()})
    assert notice["recipients"] == 1
    assert inbox(notify, inside)["items"][0]["title"] == "社区义诊"
    assert inbox(notify, other)["total"] == 0


def test_read_all_clears_the_unread_count_and_old_read_notifications_expire(notify):
    resident = {"sub": unique("resident"), "role": "resident"}
    publish(notify, "orders", order_event("order_confirmed", resident["sub"], None))
    publish(notify, "orders", order_event("order_delivered", resident["sub"], None,
                                          status="delivered"))
    with rpc(notify) as service:
        assert service.mark_all_read(actor=resident) == {"marked": 2, "unread_count": 0}
    clock_of(notify).offset += timedelta(days=31)
    with entrypoint_hook(notify, "work_due") as work:
        work()
    assert inbox(notify, resident)["total"] == 0


def test_the_stream_rpc_answers_only_what_is_newer_than_the_cursor(notify):
    resident = {"sub": unique("resident"), "role": "resident"}
    with rpc(notify) as service:
        start = service.notifications_since(actor=resident)["cursor"]
        assert service.notifications_since(actor=resident, after=start)["items"] == []
        publish(notify, "orders", order_event("order_confirmed", resident["sub"], None))
        first = service.notifications_since(actor=resident, after=start)
        assert [n["event_type"] for n in first["items"]] == ["order_confirmed"]
        assert service.notifications_since(actor=resident, after=first["cursor"])["items"] == []


def test_a_notice_to_a_large_audience_is_finished_by_the_timer(container_factory,
                                                               service_config):
    config = {**service_config, "NOTIFY_NOTICE_INLINE": 1, "NOTIFY_NOTICE_BATCH": 1}
    container = container_factory(NotifyService, config)
    container.start()
    container.test_config = config
    community = unique("社区")
    residents = [_resident_at(container, 30.58, 114.27, community) for _ in range(3)]
    with rpc(container) as service:
        notice = service.create_notice(actor=PLANNER, notice={
            "title": "垃圾分类宣传", "body": "本周六上午。",
            "audience": {"communities": [community]}})
    assert notice["recipients"] == 3

    def reached():
        return sum(inbox(container, who)["total"] for who in residents)

    assert reached() >= 1  # one inbox within the request (the real timer may add more)
    for _ in range(2):
        with entrypoint_hook(container, "work_due") as work:
            work()
    wait_for(lambda: reached() == 3, what="every resident to have the notice")
    assert all(inbox(container, who)["total"] == 1 for who in residents)


def test_notifications_stored_by_the_first_version_stay_readable(container_factory,
                                                                 service_config):
    from services.common.store import open_database

    db = open_database("notify", "", service_config["DATA_DIR"])
    db.db["notifications"].insert_one({
        "_id": "ntf_" + "9" * 32, "recipient_id": "resident-old", "category": "orders",
        "event_type": "order_delivered", "event_id": "evt_old", "correlation_id": "ord_old",
        "title": "订单已送达", "body": "您的订单已送达。", "read": False,
        "created_at": datetime(2026, 11, 1, tzinfo=UTC)})
    db.close()
    container = container_factory(NotifyService, service_config)
    container.start()
    container.test_config = service_config
    page = inbox(container, {"sub": "resident-old", "role": "resident"})
    assert [(n["title"], n["read"]) for n in page["items"]] == [("订单已送达", False)]
    assert page["unread_count"] == 1


def test_the_timer_interval_is_a_setting_of_the_service_config(container_factory,
                                                              service_config):
    # An operator sets NOTIFY_TIMER_SECONDS like any other setting (deploy/nameko.yaml);
    # nameko's own timer would have fixed it when the class was defined.
    config = {**service_config, "NOTIFY_TIMER_SECONDS": 0.25}
    container = container_factory(NotifyService, config)
    container.start()
    timer = next(e for e in container.entrypoints if e.method_name == "work_due")
    assert timer.interval == 0.25


def test_the_audience_size_shown_before_posting_is_the_number_the_notice_reaches(notify):
    community = unique("民意街社区")
    _resident_at(notify, 30.5806, 114.2712, community)  # ~120 m
    _resident_at(notify, 30.5840, 114.2701, community)  # ~430 m: 7.5 min walk
    _resident_at(notify, 30.5950, 114.2701)  # ~1.7 km
    walk = {"near": {"location": CENTRE, "walk_minutes": 5}}
    with rpc(notify) as service:
        sizes = [service.notice_audience_size(actor=PLANNER, audience=a)["recipients"]
                 for a in (walk, {"communities": [community]})]
        notice = service.create_notice(actor=PLANNER, notice={
            "title": "停水通知", "body": "明天停水。", "audience": walk})
        with pytest.raises(InvalidInput):
            service.notice_audience_size(actor=PLANNER, audience={"communities": []})
    assert sizes == [1, 2]
    assert notice["recipients"] == 1
