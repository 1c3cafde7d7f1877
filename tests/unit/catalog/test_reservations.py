"""Reservations on the embedded store: counters that never oversell, a product document that
does not grow with open orders, and a crash before any write of any step that loses or doubles
nothing once the event is delivered again."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest

from services.catalog import records, reservations
from services.catalog.store import CatalogStore
from services.common.events import make_event
from services.common.geo import TravelModel
from services.common.store import open_database

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
MODEL = TravelModel()
HOME = {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}
WRITES = ("take", "untake", "end_hold", "settle", "decide", "clear_held", "close_ledger")


class Crash(Exception):
    """kill -9: the process stops before a write."""


class CrashingStore(CatalogStore):
    """Raises Crash instead of making its ``crash_at``-th write (counting from 0)."""

    crash_at: int | None = None
    writes = 0

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name in WRITES:
            def write(*args, **kw):
                if self.crash_at is not None and self.writes == self.crash_at:
                    raise Crash(name)
                self.writes += 1
                return attr(*args, **kw)
            return write
        return attr


@pytest.fixture
def store(open_store):
    return open_store("catalog", CrashingStore)


def shop(store, stock=10, products=1):
    merchant = records.new_merchant("owner", {
        "name": "社区食堂", "business_type": "elderly_care", "address": "民意街1号",
        "location": {"lat": 30.5812, "lng": 114.2698}}, NOW)
    store.insert_merchant(merchant)
    goods = []
    for n in range(products):
        product = records.new_product(merchant, {"name": f"套餐{n}", "sale_mode": "by_piece",
                                                 "price_fen": 1600, "stock": stock}, NOW)
        store.insert_product(product)
        goods.append(product)
    return merchant, goods


def placed(order_id, merchant, goods, quantity=1):
    return make_event("order_placed", {
        "order_id": order_id, "resident_id": "resident-a", "merchant_id": merchant["_id"],
        "items": [{"product_id": p["_id"], "quantity": quantity} for p in goods],
        "delivery": HOME}, source="orders", correlation_id=order_id)


def ended(kind, event):
    data = event["data"]
    status = {"order_cancelled": "cancelled", "order_delivered": "delivered"}[kind]
    return make_event(kind, {
        "order_id": data["order_id"], "resident_id": "resident-a",
        "merchant_id": data["merchant_id"], "merchant_owner_id": "owner",
        "merchant_name": "社区食堂", "status": status, "previous_status": "confirmed",
        "items": data["items"], "total_fen": 1600, "reason": None, "by": "resident-a"},
        source="orders", correlation_id=data["order_id"])


def counters(store, product):
    doc = store.get_product(product["_id"])
    return doc["stock"], doc["reserved"], doc["sold"], doc["inflight"]


def reserve(store, event):
    return reservations.reserve_for_order(store, event, MODEL, NOW)


def test_stock_is_taken_once_however_often_the_order_arrives(store):
    merchant, (meal,) = shop(store, stock=5)
    event = placed("ord_1", merchant, [meal], 2)
    assert reserve(store, event)["_id"] == "ord_1"
    assert reserve(store, event) is None
    assert reserve(store, event) is None
    assert counters(store, meal) == (3, 2, 0, [])
    assert store.ledger_entry("ord_1")["held"] == {meal["_id"]: 2}


def test_orders_beyond_the_stock_are_rejected_and_hold_nothing(store):
    merchant, (meal,) = shop(store, stock=3)
    answers = [reserve(store, placed(f"ord_{n}", merchant, [meal]))["_id"] for n in range(5)]
    statuses = [store.ledger_entry(f"ord_{n}")["status"] for n in range(5)]
    assert answers == [f"ord_{n}" for n in range(5)]
    assert statuses == ["reserved"] * 3 + ["rejected"] * 2
    assert counters(store, meal) == (0, 3, 0, [])


def test_a_rejected_line_gives_back_the_lines_taken_before_it(store):
    merchant, (rice, meal) = shop(store, stock=1, products=2)
    store.take(meal["_id"], "take:someone-else", 1)  # the last meal went elsewhere
    reserve(store, placed("ord_1", merchant, [rice, meal]))
    assert store.ledger_entry("ord_1")["status"] == "rejected"
    assert counters(store, rice) == (1, 0, 0, [])


def test_the_product_document_does_not_grow_with_open_orders(store):
    merchant, (meal,) = shop(store, stock=10_000)
    reserve(store, placed("ord_first", merchant, [meal]))
    size_after_one = len(repr(store.get_product(meal["_id"])))
    for n in range(500):
        reserve(store, placed(f"ord_{n}", merchant, [meal]))
    assert counters(store, meal) == (9_499, 501, 0, [])
    assert len(repr(store.get_product(meal["_id"]))) <= size_after_one + 4  # the digits


def test_a_cancellation_that_overtakes_its_order_reserves_nothing(store):
    merchant, (meal,) = shop(store, stock=5)
    event = placed("ord_1", merchant, [meal], 2)
    reservations.release_for_order(store, ended("order_cancelled", event), NOW)
    assert reserve(store, event) is None
    assert counters(store, meal) == (5, 0, 0, [])


def test_cancelling_and_delivering_move_the_reserved_stock(store):
    merchant, (meal,) = shop(store, stock=5)
    cancelled, delivered = placed("ord_1", merchant, [meal], 2), placed("ord_2", merchant,
                                                                        [meal], 1)
    reserve(store, cancelled)
    reserve(store, delivered)
    reservations.release_for_order(store, ended("order_cancelled", cancelled), NOW)
    reservations.sell_for_order(store, ended("order_delivered", delivered), NOW)
    reservations.sell_for_order(store, ended("order_delivered", delivered), NOW)  # again
    assert counters(store, meal) == (4, 0, 1, [])


def run_with_crash(store, step, crash_at):
    """Run ``step`` crashing before write number ``crash_at``; True if it crashed."""
    store.crash_at, store.writes = crash_at, 0
    try:
        step()
    except Crash:
        return True
    finally:
        store.crash_at = None
    return False


def assert_books_balance(store, goods, initial, reserved_each, sold_each):
    for product in goods:
        assert counters(store, product) == (initial - reserved_each - sold_each,
                                            reserved_each, sold_each, [])


def scenario(store, order, then):
    """The steps of one order's life: reserved, then perhaps cancelled or delivered."""
    steps = [partial(reserve, store, order)]
    if then == "cancel":
        steps.append(partial(reservations.release_for_order, store,
                             ended("order_cancelled", order), NOW))
    if then == "deliver":
        steps.append(partial(reservations.sell_for_order, store,
                             ended("order_delivered", order), NOW))
    return steps


@pytest.mark.parametrize("then", ["none", "cancel", "deliver"])
def test_a_crash_before_any_write_loses_or_doubles_nothing(tmp_path, then):
    """For every write of every step: crash before it, deliver the event again, check."""
    crash_at = 0
    while True:
        database = open_database(f"catalog{crash_at}", "", str(tmp_path))
        store = CrashingStore(database.db)
        store.ensure_indexes()
        merchant, goods = shop(store, stock=5, products=2)
        order = placed("ord_1", merchant, goods, 2)
        steps = scenario(store, order, then)
        crashed = False
        budget = crash_at
        for step in steps:
            store.writes = 0
            if run_with_crash(store, step, budget):
                crashed = True
                step()  # the broker delivers the same event again
                step()  # and once more, for good measure
            budget -= store.writes
        if then == "none":
            assert store.ledger_entry("ord_1")["status"] == "reserved"
            assert_books_balance(store, goods, 5, 2, 0)
        elif then == "cancel":
            assert_books_balance(store, goods, 5, 0, 0)
        else:
            assert_books_balance(store, goods, 5, 0, 2)
        database.close()
        if not crashed:
            break  # crash_at is past the last write: every point was tried
        crash_at += 1
    assert crash_at >= 4


def test_a_crash_mid_reservation_then_a_cancellation_gives_everything_back(store):
    merchant, goods = shop(store, stock=5, products=2)
    order = placed("ord_1", merchant, goods, 2)
    assert run_with_crash(store, lambda: reserve(store, order), crash_at=1)  # after one take
    reservations.release_for_order(store, ended("order_cancelled", order), NOW)
    assert reserve(store, order) is None  # the redelivery, after the cancellation
    assert_books_balance(store, goods, 5, 0, 0)


def test_products_that_listed_their_reservations_are_migrated_at_start_up(tmp_path):
    database = open_database("catalog", "", str(tmp_path))
    store = CatalogStore(database.db)
    merchant, (meal,) = shop(store, stock=5)
    # The old shape: the product lists each open reservation; the ledger has no holds.
    store.products.update_one({"_id": meal["_id"]}, {
        "$set": {"stock": 2, "reservations": [
            {"order_id": "ord_old", "quantity": 3, "at": NOW}]},
        "$unset": {"reserved": "", "inflight": ""}})
    store.ledger.insert_one({"_id": "ord_old", "status": "reserved"})
    store.ensure_indexes()
    doc = store.get_product(meal["_id"])
    assert "reservations" not in doc and (doc["stock"], doc["reserved"]) == (2, 3)
    assert store.ledger_entry("ord_old")["held"] == {meal["_id"]: 3}
    order = placed("ord_old", merchant, [meal], 3)
    reservations.release_for_order(store, ended("order_cancelled", order), NOW)
    assert counters(store, meal) == (5, 0, 0, [])
    database.close()
