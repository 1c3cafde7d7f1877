"""What the dispatch and notify lists, counts and gauges cost as stored data piles up: 1k vs
100k of each (repairs, notifications, channel deliveries, feedback).

    .venv/bin/python -m bench.stored_lists [--sizes 1000,100000] [--repeat 100]

Seeds straight into embedded stores (a temporary directory): history spread over the past
year, the same live set at every size (open and assigned repairs, pending deliveries, open
feedback) and the same person's own items (<= 30), then times the stores' own verbs. Prints
p50/p99 per size and the ratio of the largest size to the smallest (1.0 = flat). Runs
against older stores too (their verbs took no ``now``), for before/after figures.
"""

from __future__ import annotations

import argparse
import inspect
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from bench.stats import print_size_table, timed
from services.common import idempotency
from services.common.store import open_database
from services.dispatch.metrics import repair_gauges
from services.dispatch.store import DispatchStore
from services.notify.store import NotifyStore

try:  # absent before the list buckets existed (the "before" run)
    from services.common.windows import buckets
except ImportError:
    def buckets(prefix: str, at: datetime) -> dict:
        return {}

PEOPLE, TECHS, COMMUNITIES = 5000, 200, 50
LIVE_OPEN, LIVE_ASSIGNED, LIVE_PENDING = 20, 30, 20
MINE = 30  # the person's own items, at every size


def spread(rng: random.Random, now: datetime) -> datetime:
    return now - timedelta(days=1 + rng.random() * 364)


def owner(n: int, rng: random.Random, prefix: str) -> str:
    """The measured person owns MINE items at every size; everyone else the rest."""
    if n % 31 == 0 and n < 31 * MINE:
        return f"{prefix}-0"
    return f"{prefix}-{rng.randrange(1, PEOPLE)}"


def repair_doc(n: int, rng: random.Random, now: datetime) -> dict:
    if n < LIVE_OPEN:
        status, at = "open", now - timedelta(minutes=5)
    elif n < LIVE_OPEN + LIVE_ASSIGNED:
        status, at = "assigned", now - timedelta(minutes=3)
    else:
        status, at = rng.choice(("completed", "rated", "rated", "cancelled")), spread(rng, now)
    resident = owner(n, rng, "res")
    tech = None if status == "open" else f"tec_{n % TECHS:032x}"
    arrived = at + timedelta(minutes=12) if status not in ("open", "cancelled") else None
    return {"_id": f"rep_{n:032x}", "rev": 0, "resident_id": resident, "skill": "plumbing",
            "status": status, "technician_id": tech, "requested_at": at,
            **buckets("requested", at), "due_by": at + timedelta(minutes=15),
            "accept_by": None, "arrived_at": arrived,
            **({"arrived_hour": int(arrived.timestamp() // 3600)} if arrived else {}),
            "sla_breached_sent": False, "history": [],
            **idempotency.key_fields(resident, f"k{n}"), "fingerprint": "x",
            "created_at": at, "updated_at": at, "_outbox": [], "_outbox_pending": False}


def notification_doc(n: int, rng: random.Random, now: datetime) -> dict:
    at = now - timedelta(seconds=n) if n < 31 * MINE else spread(rng, now)
    return {"_id": f"ntf_{n:032x}", "recipient_id": owner(n, rng, "res"), "shared": False,
            "held": False, "read": n % 3 == 0, "read_by": [], "seq": n + 1,
            "kind": "order", "title": "x", "body": "x", "created_at": at,
            "expire_at": None, "expire_day": None}


def delivery_doc(n: int, rng: random.Random, now: datetime) -> dict:
    if n < LIVE_PENDING:
        status, at = "pending", now - timedelta(seconds=30)
    else:
        status, at = ("failed" if n % 50 == 0 else "sent"), spread(rng, now)
    return {"_id": f"dlv_{n:032x}", "notification_id": f"ntf_{n:032x}",
            "recipient_id": f"res-{n % PEOPLE}", "channel": "sms", "to": "x",
            "message": "x", "status": status, "attempts": [], "attempt_count": 1,
            "next_attempt_at": now + timedelta(hours=1) if status == "pending" else None,
            "lease_until": None, "last_error": None, "created_at": at, "updated_at": at,
            **buckets("updated", at)}


def feedback_doc(n: int, rng: random.Random, now: datetime) -> dict:
    status, at = ("open", now - timedelta(hours=1)) if n < 40 else ("closed", spread(rng, now))
    return {"_id": f"fbk_{n:032x}", "resident_id": owner(n, rng, "res"),
            "community": f"c{n % COMMUNITIES}", "subject": {"type": "community", "id": None},
            "status": status, "text": "x", "answers": [], "created_at": at,
            "updated_at": at, **buckets("created", at)}


def seed(collection, make, size: int, now: datetime) -> None:
    rng = random.Random(7)
    batch = []
    for n in range(size):
        batch.append(make(n, rng, now))
        if len(batch) == 2000:
            collection.insert_many(batch)
            batch = []
    if batch:
        collection.insert_many(batch)


def call(verb, *args, now: datetime):
    """A store's list verb, with ``now`` where it takes one (it did not before)."""
    if "now" in inspect.signature(verb).parameters:
        return verb(*args, now)
    return verb(*args)


def measure_dispatch(store: DispatchStore, now: datetime, repeat: int) -> dict[str, list]:
    board = call(store.page, {"status": {"$in": ["open", "assigned", "accepted", "arrived"]}},
                 0, 20, now=now)
    assert len(board[0]) == 20 and board[1] == LIVE_OPEN + LIVE_ASSIGNED, "the live board"
    mine = call(store.page, {"resident_id": "res-0"}, 0, 20, now=now)
    assert mine[1] == MINE, f"the resident's own ({mine[1]})"
    few = max(5, repeat // 10)
    return {
        "repairs: resident's own (30), page 1 + total": timed(lambda: call(
            store.page, {"resident_id": "res-0"}, 0, 20, now=now), repeat),
        "repairs: technician's jobs, page 1 + total": timed(lambda: call(
            store.page, {"technician_id": f"tec_{0:032x}"}, 0, 20, now=now), few),
        "repairs: dispatcher's active board + total": timed(lambda: call(
            store.page, {"status": {"$in": ["open", "assigned", "accepted", "arrived"]}},
            0, 20, now=now), repeat),
        "repairs: dispatcher, rated, page 1 + total": timed(lambda: call(
            store.page, {"status": "rated"}, 0, 20, now=now), few),
        "repairs: metrics scrape (gauges)": timed(lambda: repair_gauges(store, now), few),
    }


def measure_notify(store: NotifyStore, now: datetime, repeat: int) -> dict[str, list]:
    inbox = store.notifications.page(["res-0"], "res-0", 0, 20)
    assert inbox[1] == MINE, f"the person's inbox ({inbox[1]})"
    few = max(5, repeat // 10)
    return {
        "inbox: a person's (30), page 1 + total + unread": timed(
            lambda: store.notifications.page(["res-0"], "res-0", 0, 20), repeat),
        "inbox: unread badge": timed(
            lambda: store.notifications.unread_count(["res-0"], "res-0"), repeat),
        "deliveries: admin, pending + total": timed(lambda: call(
            store.deliveries.page, {"status": "pending"}, 0, 20, now=now), repeat),
        "deliveries: admin, failed + total": timed(lambda: call(
            store.deliveries.page, {"status": "failed"}, 0, 20, now=now), few),
        "deliveries: admin, sent + total": timed(lambda: call(
            store.deliveries.page, {"status": "sent"}, 0, 20, now=now), few),
        "feedback: resident's own (30) + total": timed(lambda: call(
            store.feedback.page, {"resident_id": "res-0"}, 0, 20, now=now), repeat),
        "feedback: planner's open queue + total": timed(lambda: call(
            store.feedback.page, {"community": {"$in": ["c1", "c2"]}, "status": "open"},
            0, 20, now=now), few),
        "feedback: admin, all, page 1 + total": timed(lambda: call(
            store.feedback.page, {}, 0, 20, now=now), few),
    }


def run(size: int, now: datetime, repeat: int) -> dict[str, list]:
    results: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        database = open_database("dispatch", "", tmp)
        try:
            store = DispatchStore(database.db, cache=False)
            store.ensure_indexes()
            began = time.perf_counter()
            seed(store.repairs, repair_doc, size, now)
            print(f"seeded {size} repairs in {time.perf_counter() - began:.1f} s", flush=True)
            results |= measure_dispatch(store, now, repeat)
        finally:
            database.close()
        database = open_database("notify", "", tmp)
        try:
            store = NotifyStore(database.db)
            store.ensure_indexes()
            began = time.perf_counter()
            for name, make in (("notifications", notification_doc),
                               ("deliveries", delivery_doc), ("feedback", feedback_doc)):
                seed(getattr(store, name).collection, make, size, now)
            print(f"seeded {size} notifications, deliveries, feedback in "
                  f"{time.perf_counter() - began:.1f} s", flush=True)
            results |= measure_notify(store, now, repeat)
        finally:
            database.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    now = datetime.now(UTC)
    results = {size: run(size, now, args.repeat) for size in sizes}
    print_size_table(results, width=50)

if __name__ == "__main__":
    main()
