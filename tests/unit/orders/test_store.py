"""The orders store stays flat in stored orders: the timer finds due orders by their due
minute, and lists read the newest window that holds the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.orders import records
from services.orders.store import TOTAL_CAP, OrdersStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(open_store):
    return open_store("orders", OrdersStore)


def order(n: int, created: datetime, status: str = "delivered", owner: str = "owner-1",
          accept_by: datetime | None = None) -> dict:
    doc = records.new_order("res-1", f"key-{n}", {
        "merchant_id": "mer_1", "items": [{"product_id": "prd_1", "quantity": 1}],
        "delivery": {"address": "x", "location": {"lat": 30.5, "lng": 114.2}}}, created)
    return {**doc, "_id": f"ord_{n}", "status": status, "merchant_owner_id": owner,
            "accept_by": accept_by, **records.accept_due(status, accept_by)}


def test_the_timer_finds_orders_past_their_accept_by_time_and_only_those(store):
    store.orders.insert_many([
        order(1, NOW - timedelta(minutes=11), "confirmed", accept_by=NOW - timedelta(minutes=1)),
        order(2, NOW - timedelta(minutes=5), "confirmed", accept_by=NOW + timedelta(minutes=5)),
        order(3, NOW - timedelta(days=3)),
    ])
    store.overdue_confirmations(NOW)  # the start-up sweep
    assert [o["_id"] for o in store.overdue_confirmations(NOW)] == ["ord_1"]


def test_an_order_that_left_confirmed_is_no_longer_due(store):
    store.orders.insert_one(order(1, NOW - timedelta(minutes=11), "confirmed",
                                  accept_by=NOW - timedelta(minutes=1)))
    fields, _event = records.status_change(store.get("ord_1"), "accepted", NOW, "owner-1")
    assert fields["accept_due_minute"] is None
    store.move("ord_1", {"confirmed"}, fields, records.history_entry("accepted", NOW, None,
                                                                     None), [])
    store.overdue_confirmations(NOW)
    assert store.overdue_confirmations(NOW) == []


def test_a_short_list_is_newest_first_with_an_exact_total(store):
    store.orders.insert_many([order(n, NOW - timedelta(days=n * 40)) for n in range(1, 6)])
    docs, total, capped = store.page({"merchant_owner_id": "owner-1"}, 0, 3, NOW)
    assert [d["_id"] for d in docs] == ["ord_1", "ord_2", "ord_3"]
    assert (total, capped) == (5, False)


def test_a_long_list_says_at_least_the_cap_and_pages_through_the_newest(store):
    store.orders.insert_many([order(n, NOW - timedelta(minutes=n)) for n in range(TOTAL_CAP + 20)])
    store.orders.insert_many([order(10_000 + n, NOW - timedelta(days=200 + n))
                              for n in range(50)])
    docs, total, capped = store.page({"status": "delivered"}, 20, 10, NOW)
    assert [d["_id"] for d in docs] == [f"ord_{n}" for n in range(20, 30)]
    assert (total, capped) == (TOTAL_CAP, True)


def test_a_resident_sees_only_their_own_orders_however_old(store):
    mine = [order(n, NOW - timedelta(days=300 * n)) for n in range(1, 4)]
    theirs = {**order(9, NOW), "resident_id": "res-2"}
    store.orders.insert_many([*mine, theirs])
    docs, total, capped = store.page({"resident_id": "res-1"}, 0, 20, NOW)
    assert [d["_id"] for d in docs] == ["ord_1", "ord_2", "ord_3"]
    assert (total, capped) == (3, False)
    docs, total, _ = store.page({"resident_id": "res-1", "status": "pending"}, 0, 20, NOW)
    assert (docs, total) == ([], 0)


def test_a_live_status_is_listed_directly_and_its_gauge_counts_it(store):
    store.orders.insert_many([order(n, NOW - timedelta(days=n * 100), "confirmed",
                                    owner=f"owner-{n % 2}") for n in range(1, 5)])
    docs, total, capped = store.page({"merchant_owner_id": "owner-0", "status": "confirmed"},
                                     0, 20, NOW)
    assert [d["_id"] for d in docs] == ["ord_2", "ord_4"]
    assert (total, capped) == (2, False)
    assert store.count_with_status("confirmed") == 4
    with pytest.raises(ValueError):
        store.count_with_status("delivered")  # history: counted as moves, not documents


def test_the_refund_timer_finds_due_refunds_by_the_payment_status(store):
    def with_payment(n: int, status: str, due: datetime | None) -> dict:
        doc = order(n, NOW - timedelta(days=1), "cancelled")
        return {**doc, "payment": {**doc["payment"], "status": status, "refund_due_at": due}}

    store.orders.insert_many([
        with_payment(1, "refund_pending", NOW - timedelta(seconds=5)),
        with_payment(2, "refund_pending", NOW + timedelta(minutes=1)),  # leased / not yet
        with_payment(3, "refunded", None),
        with_payment(4, "paid", None),
    ])
    assert store.due_refunds(NOW) == ["ord_1"]
    # The lookup is an equality on an indexed key, so it reads only the open refunds.
    assert "payment.status_1" in store.orders.index_information()
