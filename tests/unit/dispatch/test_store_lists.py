"""The dispatch store's lists cost what they return: a person's own by their key, the live
board by status, history through windows of request time; totals capped at TOTAL_CAP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common import idempotency
from services.common.paging import TOTAL_CAP
from services.common.store import open_database
from services.common.windows import bucket_fields, buckets
from services.dispatch.store import DispatchStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(open_store):
    return open_store("dispatch", DispatchStore, cache=False)


def repair(n: int, at: datetime, status: str = "rated", resident: str = "res-1",
           tech: str | None = "tec_1") -> dict:
    return {"_id": f"rep_{n}", "rev": 0, "resident_id": resident, "status": status,
            "technician_id": tech, "requested_at": at, **buckets("requested", at),
            **idempotency.key_fields(resident, f"k{n}"), "_outbox": [],
            "_outbox_pending": False}


def ids(docs: list[dict]) -> list[str]:
    return [d["_id"] for d in docs]


def test_a_resident_lists_only_their_own_newest_first_with_an_exact_total(store):
    store.repairs.insert_many([repair(n, NOW - timedelta(days=100 * n)) for n in range(5)]
                              + [repair(9, NOW, resident="res-2")])
    docs, total, capped = store.page({"resident_id": "res-1"}, 1, 2, NOW)
    assert ids(docs) == ["rep_1", "rep_2"]
    assert (total, capped) == (5, False)
    docs, total, _ = store.page({"resident_id": "res-1", "status": "open"}, 0, 20, NOW)
    assert (docs, total) == ([], 0)


def test_a_long_history_says_at_least_the_cap_and_pages_through_the_newest(store):
    store.repairs.insert_many([repair(n, NOW - timedelta(minutes=n))
                               for n in range(TOTAL_CAP + 20)])
    store.repairs.insert_many([repair(10_000 + n, NOW - timedelta(days=200 + n), "open")
                               for n in range(3)])
    docs, total, capped = store.page({"status": "rated"}, 20, 10, NOW)
    assert ids(docs) == [f"rep_{n}" for n in range(20, 30)]
    assert (total, capped) == (TOTAL_CAP, True)
    docs, total, capped = store.page({"status": {"$in": ["open", "assigned"]}}, 0, 2, NOW)
    assert ids(docs) == ["rep_10000", "rep_10001"]
    assert (total, capped) == (3, False)


def test_a_technician_with_few_jobs_sees_old_ones_too(store):
    store.repairs.insert_many([repair(1, NOW - timedelta(days=3)),
                               repair(2, NOW - timedelta(days=800)),
                               repair(3, NOW, tech="tec_2")])
    docs, total, capped = store.page({"technician_id": "tec_1"}, 0, 20, NOW)
    assert ids(docs) == ["rep_1", "rep_2"]
    assert (total, capped) == (2, False)


def test_the_gauge_counts_only_active_statuses(store):
    store.repairs.insert_many([repair(1, NOW, "open"), repair(2, NOW, "open"),
                               repair(3, NOW)])
    assert store.count_with_status("open") == 2
    with pytest.raises(ValueError):
        store.count_with_status("rated")


def test_arrivals_of_the_last_hour_are_found_by_their_arrival_hour(store):
    store.repairs.insert_many([repair(1, NOW - timedelta(minutes=40), "accepted"),
                               repair(2, NOW - timedelta(hours=5), "accepted")])
    for n, at in ((1, NOW - timedelta(minutes=30)), (2, NOW - timedelta(hours=4))):
        doc = store.repair(f"rep_{n}")
        assert store.move_repair(doc, {"status": "arrived", "arrived_at": at}, []) is not None
    assert ids(store.arrived_since(NOW - timedelta(hours=1))) == ["rep_1"]


def test_the_stats_range_holds_exactly_the_repairs_requested_in_it(store):
    start, end = NOW - timedelta(days=7), NOW
    store.repairs.insert_many([
        repair(1, start - timedelta(seconds=1)),  # just before: same bucket day, left out
        repair(2, start),
        repair(3, end - timedelta(seconds=1)),
        repair(4, end),  # the range is half-open
        repair(5, NOW - timedelta(days=400)),
    ])
    assert sorted(ids(store.requested_between(start, end))) == ["rep_2", "rep_3"]


def test_repairs_stored_before_the_buckets_get_them_once_at_start_up(tmp_path):
    database = open_database("dispatch", "", str(tmp_path))
    try:
        old = {k: v for k, v in repair(1, NOW - timedelta(days=3), "arrived").items()
               if k not in bucket_fields("requested")}
        old["arrived_at"] = NOW - timedelta(days=3) + timedelta(minutes=12)
        database.db["repairs"].insert_one(old)  # as the previous version stored it
        store = DispatchStore(database.db, cache=False)
        store.ensure_indexes()
        migrated = store.repair("rep_1")
        assert {k: migrated[k] for k in buckets("requested", old["requested_at"])} == \
            buckets("requested", old["requested_at"])
        assert "arrived_hour" in migrated

        # Recorded as done: a later start does not read every repair for old shapes again.
        newer = {k: v for k, v in repair(2, NOW, "open").items()
                 if k not in bucket_fields("requested")}
        store.repairs.insert_one(newer)
        store.ensure_indexes()
        assert "requested_hour" not in store.repair("rep_2")
    finally:
        database.close()
