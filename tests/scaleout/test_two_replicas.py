"""Every service correct with two replicas against one database (issue 12, section 1).

Two replicas of catalog, orders, dispatch and notify on real RabbitMQ, each pair sharing one
database (tests/scaleout/replicas.py). A load of orders, cancels, deliveries, repairs and a
community notice goes through RPC, so the broker hands the work to either replica; then the
timers of both replicas run at the same moment on the same due items. Checked: both replicas
of every service did some of the work; every order and repair reaches its end state once
and no event is published twice; stock adds up; no notification is doubled and stream
numbers are unique; each timer item (left-behind outbox events, accept timeouts, SLA alerts,
stray bookings, notice fan-out batches) is acted on once; a merchant's move and a
technician's new location made through one replica are seen by the other at once.

It prints its figures at the end (``-s`` or the summary of ``-rA``).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalog.service import CatalogService
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.common.errors import Conflict
from services.dispatch import records as dispatch_records
from services.dispatch.service import DispatchService
from services.dispatch.store import DispatchStore
from services.notify.service import NotifyService
from services.orders.service import OrdersService
from tests.helpers import wait_for
from tests.scaleout.replicas import EventRecorder, Replicas, one_database_per_service

pytestmark = pytest.mark.scaleout

ORDERS = int(os.environ.get("SCALEOUT_ORDERS", "90"))
REPAIRS = 16
STOCK = 20  # per product, 6 products: about 180 pieces are asked for 120, so some are rejected
RESIDENTS = 12
COMMUNITY = "民意街社区"
HOME = {"lat": 30.5803, "lng": 114.2705}
FAR = {"lat": 30.6303, "lng": 114.3305}  # ~7 km away: outside any 15-minute walk
DISPATCHER = {"sub": "dispatcher-1", "role": "dispatcher"}
PLANNER = {"sub": "planner-1", "role": "planner"}
FINAL_ORDER = {"confirmed", "rejected", "cancelled", "delivered"}
AFTER_TIMEOUT = FINAL_ORDER | {"declined"}
ONCE_PER_ORDER = ("order_placed", "order_confirmed", "order_rejected", "order_cancelled",
                  "order_declined",
                  "order_accepted", "order_out_for_delivery", "order_delivered",
                  "stock_reserved", "stock_rejected")
ONCE_PER_REPAIR = ("repair_requested", "repair_accepted", "technician_arrived",
                   "repair_completed", "repair_cancelled", "sla_at_risk", "sla_breached")


def north_of(point: dict, metres: float) -> dict:
    return {"lat": point["lat"] + metres / 111_195, "lng": point["lng"]}


def resident(n: int) -> dict:
    return {"sub": f"resident-{n}", "role": "resident"}


@pytest.fixture(scope="module")
def amqp_uri():
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-scaleout-{os.getpid()}") as uri:
        yield uri


@pytest.fixture
def system(container_factory, service_config, monkeypatch):
    config = {
        **service_config,
        "max_workers": 8,
        "DISPATCH_AUTO_ASSIGN": "plumbing",
        "DISPATCH_ACCEPT_TIMEOUT_SECONDS": 60,
        "NOTIFY_NOTICE_INLINE": 2,
        "NOTIFY_NOTICE_BATCH": 3,
        "OUTBOX_GRACE_SECONDS": 3,
        # The timers are fired by the test, both replicas at once, on items it made due.
        "DISPATCH_TIMER_SECONDS": 3600, "NOTIFY_TIMER_SECONDS": 3600,
        "OUTBOX_RELAY_SECONDS": 3600, "ORDER_TIMER_SECONDS": 3600,
    }
    with one_database_per_service(monkeypatch):
        services = {cls.name: Replicas(container_factory, cls, config)
                    for cls in (CatalogService, OrdersService, DispatchService, NotifyService)}
        recorder = EventRecorder(config["AMQP_URI"], ("catalog", "orders", "dispatch"))
        for replicas in services.values():
            replicas.start()
        yield services, config, recorder
        recorder.close()


def make_shops(rpc) -> tuple[list[dict], dict[str, int]]:
    products, initial = [], {}
    for n in range(3):
        owner = {"sub": f"merchant-{n}", "role": "merchant"}
        shop = rpc.catalog.create_merchant(actor=owner, merchant={
            "name": f"便利店{n}", "business_type": "convenience_store",
            "location": north_of(HOME, 100 + 50 * n), "address": f"民意街{n}号"})
        for k in range(2):
            product = rpc.catalog.create_product(actor=owner, merchant_id=shop["id"], product={
                "name": f"商品{n}-{k}", "unit": "件", "price_fen": 500, "stock": STOCK})
            products.append({**product, "merchant_id": shop["id"], "owner": owner})
            initial[product["id"]] = STOCK
    return products, initial


def place_and_cancel(rpc_pool, products, rng) -> tuple[dict[str, dict], set[str]]:
    """Place ORDERS orders from 8 concurrent callers; cancel one in five at once."""
    placed: dict[str, dict] = {}
    cancelled: set[str] = set()
    plans = [(i, resident(i % RESIDENTS), rng.choice(products), rng.randint(1, 3),
              rng.random() < 0.2) for i in range(ORDERS)]

    def one(plan):
        i, who, product, quantity, cancel = plan
        with rpc_pool() as rpc:
            result = rpc.orders.place_order(actor=who, idempotency_key=f"scaleout-order-{i}",
                                            order={"merchant_id": product["merchant_id"],
                                                   "items": [{"product_id": product["id"],
                                                              "quantity": quantity}],
                                                   "delivery": {"address": "民意街12号",
                                                                "location": HOME}})
            order = result["order"]
            placed[order["id"]] = {"who": who, "product": product, "quantity": quantity}
            if cancel:
                try:
                    rpc.orders.act(actor=who, order_id=order["id"], action="cancel")
                    cancelled.add(order["id"])
                except Conflict:
                    pass  # rejected already: nothing to cancel

    pool = eventlet.GreenPool(8)
    list(pool.imap(one, plans))
    return placed, cancelled


def settled_orders(rpc, placed, final=FINAL_ORDER) -> dict[str, dict] | None:
    found = {}
    for order_id, p in placed.items():
        order = rpc.orders.get_order(actor=p["who"], order_id=order_id)
        if order["status"] not in final:
            return None
        found[order_id] = order
    return found


def deliver_some(rpc, orders, placed) -> set[str]:
    delivered = set()
    for order_id, order in list(orders.items())[::3]:
        if order["status"] != "confirmed":
            continue
        owner = placed[order_id]["product"]["owner"]
        for action in ("accept", "dispatch", "deliver"):
            rpc.orders.act(actor=owner, order_id=order_id, action=action)
        delivered.add(order_id)
    return delivered


def run_repairs(rpc_pool, techs) -> dict[str, str]:
    """REPAIRS repairs from 4 concurrent residents: a third cancelled by the resident, the
    rest accepted, reached and completed by whoever was assigned automatically."""
    by_id = {t["id"]: t for t in techs}
    ends: dict[str, str] = {}

    def one(i):
        who = resident(i % RESIDENTS)
        with rpc_pool() as rpc:
            repair = rpc.dispatch.request_repair(
                actor=who, idempotency_key=f"scaleout-repair-{i}",
                repair={"skill": "plumbing", "description": "the kitchen tap leaks",
                        "address": "民意街12号", "location": HOME})["repair"]
            if i % 3 == 0:
                rpc.dispatch.act(actor=who, repair_id=repair["id"], action="cancel",
                                 body={"reason": "fixed it myself"})
                ends[repair["id"]] = "cancelled"
                return
            assigned = wait_for(lambda: (r := rpc.dispatch.get_repair(
                actor=who, repair_id=repair["id"]))["technician_id"] and r,
                what="automatic assignment")
            tech = {"sub": by_id[assigned["technician_id"]]["sub"], "role": "technician"}
            for action in ("accept", "arrive"):
                rpc.dispatch.act(actor=tech, repair_id=repair["id"], action=action)
            code = rpc.dispatch.get_repair(actor=who, repair_id=repair["id"])["completion_code"]
            rpc.dispatch.act(actor=tech, repair_id=repair["id"], action="complete",
                             body={"code": code,
                                   "resolution": "new washer", "parts_used": ["washer"]})
            ends[repair["id"]] = "completed"

    pool = eventlet.GreenPool(4)
    list(pool.imap(one, range(REPAIRS)))
    return ends


def doubled(events: list[dict], types: tuple[str, ...]) -> dict:
    """(type, aggregate) pairs with more than one distinct event, and event ids published
    more than once."""
    distinct: dict[tuple, set] = defaultdict(set)
    copies = Counter(e["id"] for e in events)
    for e in events:
        if e["type"] in types:
            distinct[(e["type"], e["correlation_id"])].add(e["id"])
    return {"twice": {k: len(v) for k, v in distinct.items() if len(v) > 1},
            "republished": {i: n for i, n in copies.items() if n > 1}}


def test_two_replicas_of_every_service_share_the_work_and_nothing_is_lost_or_doubled(system):
    services, config, recorder = system
    catalog, orders, dispatch, notify = (services[n] for n in
                                         ("catalog", "orders", "dispatch", "notify"))
    rng = random.Random(int(os.environ.get("SCALEOUT_SEED", "12")))
    figures: dict = {}

    def rpc_pool():
        return ClusterRpcProxy(config, timeout=30)

    with rpc_pool() as rpc:
        products, initial = make_shops(rpc)
        techs = [rpc.dispatch.create_technician(actor=DISPATCHER, technician={
            "sub": f"tech-{n}", "name": f"师傅{n}", "skills": ["plumbing"],
            "home": north_of(HOME, 80 * (n + 1)), "travel_mode": "walking",
            "status": "available"}) for n in range(10)]
        for n in range(RESIDENTS):
            rpc.notify.put_preferences(actor=resident(n), preferences={
                "home": {"location": HOME, "community": COMMUNITY}})

    # ---- the read models: a change made through replica 0 is seen by replica 1
    shop = products[0]
    near = {"lat": HOME["lat"], "lng": HOME["lng"]}
    ids_near = lambda i: {m["id"] for m in catalog.call(i, "near_merchants", query=near)["items"]}  # noqa: E731
    assert shop["merchant_id"] in ids_near(1)  # replica 1 has the cells in memory now
    moved_at = time.monotonic()
    catalog.call(0, "update_merchant", actor=shop["owner"], merchant_id=shop["merchant_id"],
                 changes={"location": FAR, "address": "远处路1号"})
    wait_for(lambda: shop["merchant_id"] not in ids_near(1), timeout=5,
             what="replica 1 to see the merchant move")
    figures["merchant move seen by the other replica, ms"] = round(
        (time.monotonic() - moved_at) * 1000)
    catalog.call(1, "update_merchant", actor=shop["owner"], merchant_id=shop["merchant_id"],
                 changes={"location": north_of(HOME, 100), "address": "民意街0号"})
    wait_for(lambda: shop["merchant_id"] in ids_near(0), timeout=5, what="and back")

    tech = techs[0]
    as_tech = {"sub": tech["sub"], "role": "technician"}
    moved_at = time.monotonic()
    dispatch.call(0, "set_my_location", actor=as_tech, location=north_of(HOME, 60))
    seen = lambda: dispatch.call(1, "get_technician", actor=DISPATCHER,  # noqa: E731
                                 technician_id=tech["id"])["location"]
    wait_for(lambda: seen() and abs(seen()["lat"] - north_of(HOME, 60)["lat"]) < 1e-9,
             timeout=5, what="replica 1 to see the technician's new location")
    figures["technician location seen by the other replica, ms"] = round(
        (time.monotonic() - moved_at) * 1000)

    # ---- the load
    started = time.monotonic()
    placed, cancelled = place_and_cancel(rpc_pool, products, rng)
    with rpc_pool() as rpc:
        final = wait_for(lambda: settled_orders(rpc, placed), timeout=60,
                         what="every order to reach a final state")
        delivered = deliver_some(rpc, final, placed)
    repair_ends = run_repairs(rpc_pool, techs)
    figures["load seconds"] = round(time.monotonic() - started, 1)

    with rpc_pool() as rpc:
        notice = rpc.notify.create_notice(actor=PLANNER, idempotency_key="scaleout-notice-1",
                                          notice={"title": "停水通知", "body": "明天上午停水",
                                                  "audience": {"communities": [COMMUNITY]}})
    assert notice["recipients"] == RESIDENTS

    # ---- the timers of both replicas at once, on the same due items
    # Outbox entries a crash left behind: repairs written with their events, never flushed.
    shared_dispatch = DispatchStore(dispatch.store(0).db, cache=False)
    past = datetime.now(UTC) - timedelta(seconds=60)
    left_behind = []
    for n in range(6):
        who = resident(n)
        doc = dispatch_records.new_repair(who["sub"], f"scaleout-crashed-{n}", {
            "skill": "electrical", "description": "no power in the kitchen",
            "address": "民意街12号", "location": HOME}, past, {"electrical": 15})
        event = dispatch_records.repair_event("repair_requested", doc, None, past,
                                              by=who["sub"])
        shared_dispatch.insert_repair(doc, [event])
        left_behind.append(event["id"])
    relayed = dispatch.all_at_once("relay_outbox")
    assert sum(relayed) == len(left_behind)

    # Accept timeouts: plumbing repairs assigned automatically that nobody accepts.
    unaccepted = []
    with rpc_pool() as rpc:
        for n in range(4):
            unaccepted.append(rpc.dispatch.request_repair(
                actor=resident(n), idempotency_key=f"scaleout-unaccepted-{n}",
                repair={"skill": "plumbing", "description": "a dripping pipe",
                        "address": "民意街12号", "location": HOME})["repair"]["id"])
        wait_for(lambda: all(rpc.dispatch.get_repair(actor=DISPATCHER, repair_id=r)[
            "technician_id"] for r in unaccepted), what="the repairs to be assigned")
    # Stray bookings: a booking written, its repair never moved (a crash between the two).
    idle = [t for t in techs if dispatch.store(0).technician(t["id"])["current_repair_id"]
            is None][:2]
    for t, repair_id in zip(idle, (f"rep_{'e' * 31}{n}" for n in range(2)), strict=False):
        assert dispatch.store(0).claim_technician(t["id"], repair_id,
                                                  datetime.now(UTC)) is not None
    wait_for(lambda: all(dispatch.store(1).technician(t["id"])["current_repair_id"]
                         for t in idle), timeout=5, what="replica 1 to hear of the bookings")

    dispatch.set_clock_offset(timedelta(minutes=16))
    sweeps = dispatch.all_at_once("sweep")
    assert sum(s["timeouts"] for s in sweeps) == len(unaccepted)
    assert sum(s["freed"] for s in sweeps) == len(idle)

    notify_rounds = []
    for _ in range(5):
        notify_rounds.extend(notify.all_at_once("work_due"))
    fanned = sum((r or {}).get("notice_inboxes", 0) for r in notify_rounds)
    assert fanned == RESIDENTS - config["NOTIFY_NOTICE_INLINE"]

    # Orders nobody accepted in time: both replicas' timers decline them, each once.
    with rpc_pool() as rpc:
        final = wait_for(lambda: settled_orders(rpc, placed), timeout=30, what="orders")
    unaccepted_orders = sorted(o for o, order in final.items() if order["status"] == "confirmed")
    orders.set_clock_offset(timedelta(seconds=config["ORDER_ACCEPT_TIMEOUT_SECONDS"] + 1))
    expired = orders.all_at_once("expire_unaccepted")
    assert sum(expired) == len(unaccepted_orders)

    # ---- settle, then check every outcome
    with rpc_pool() as rpc:
        final = wait_for(lambda: settled_orders(rpc, placed, AFTER_TIMEOUT), timeout=30,
                         what="orders")
        for order_id in delivered:
            assert final[order_id]["status"] == "delivered"
        for order_id in cancelled:
            assert final[order_id]["status"] == "cancelled"
        for order_id in unaccepted_orders:
            assert final[order_id]["status"] == "declined"
        for repair_id, end in repair_ends.items():
            assert rpc.dispatch.get_repair(actor=DISPATCHER, repair_id=repair_id)[
                "status"] == end
        for product in products:
            held = sum(p["quantity"] for o, p in placed.items()
                       if p["product"]["id"] == product["id"]
                       and final[o]["status"] in ("confirmed", "accepted", "out_for_delivery"))
            seen_product = wait_for(lambda pid=product["id"], held=held: (
                p := rpc.catalog.get_product(product_id=pid))["reserved"] == held and p,
                timeout=30, what="the declined orders' stock to be released")
            assert initial[product["id"]] == (seen_product["stock"] + seen_product["reserved"]
                                              + seen_product["sold"])

    # Events: wait until the last expected ones arrived, then nothing may be doubled.
    def recorded():
        events = recorder.drain()
        kinds = Counter(e["type"] for e in events)
        return (kinds["sla_breached"] >= len(unaccepted) + len(left_behind)
                and kinds["repair_completed"] == sum(1 for e in repair_ends.values()
                                                     if e == "completed")
                and kinds["order_declined"] >= len(unaccepted_orders)
                and events)
    events = wait_for(recorded, timeout=30, what="every event to be recorded")
    twice = doubled(events, ONCE_PER_ORDER + ONCE_PER_REPAIR)
    assert twice["twice"] == {}, "an item was acted on twice"
    assert twice["republished"] == {}, "an event was published twice"
    relayed_ids = Counter(e["id"] for e in events if e["id"] in left_behind)
    assert relayed_ids == Counter(left_behind)
    timeouts = [e for e in events
                if e["type"] == "repair_declined" and e["data"]["by"] == "system"]
    assert sorted(e["correlation_id"] for e in timeouts) == sorted(unaccepted)

    # Notifications held in quiet hours (when the test runs in the city's evening): the next
    # morning both replicas' timers release them at once, each numbered once.
    held = notify.store(0).notifications.collection.count_documents({"held": True})
    notify.set_clock_offset(timedelta(hours=10))
    released = sum((r or {}).get("released", 0) for r in notify.all_at_once("work_due"))
    assert released == held

    # Notifications: one per person per event, stream numbers unique.
    notifications = list(notify.store(0).notifications.collection.find({}))
    per_person_event = Counter((n["recipient_id"], n.get("event_id"), n.get("category"))
                               for n in notifications)
    assert max(per_person_event.values()) == 1
    seqs = [n["seq"] for n in notifications]
    assert None not in seqs and len(seqs) == len(set(seqs))
    notice_copies = Counter(n["recipient_id"] for n in notifications
                            if n["event_id"] == notice["id"])
    assert notice_copies == Counter({f"resident-{n}": 1 for n in range(RESIDENTS)})

    # Both replicas of every service did some of the work.
    shares = {
        "catalog": catalog.share("on_order_placed", "on_order_cancelled", "get_product"),
        "orders": orders.share("place_order", "on_stock_reserved", "on_stock_rejected",
                               "get_order", "act"),
        "dispatch": dispatch.share("request_repair", "act", "get_repair",
                                   "on_repair_requested"),
        "notify": notify.share(*[f"on_{t}" for t in ("order_confirmed", "order_rejected",
                                                     "order_cancelled", "repair_requested",
                                                     "repair_assigned", "repair_completed")]),
    }
    for name, share in shares.items():
        assert all(n > 0 for n in share), f"one {name} replica did nothing: {share}"

    statuses = Counter(o["status"] for o in final.values())
    figures.update({
        "orders": len(placed), "order outcomes": dict(statuses),
        "repairs": len(repair_ends) + len(unaccepted) + len(left_behind),
        "notifications": len(notifications), "stream numbers (unique)": len(seqs),
        "events published": len(events),
        "per-replica share (work items handled by replica 0 / 1)": shares,
        "timer items acted on": {"outbox documents relayed": sum(relayed),
                                 "accept timeouts": len(timeouts),
                                 "stray bookings freed": len(idle),
                                 "orders declined by the acceptance timeout":
                                     len(unaccepted_orders),
                                 "notice inboxes by the timers": fanned,
                                 "held notifications released": released},
        "lost": 0, "doubled": 0,
    })
    print("\nscale-out figures:", figures)
