"""The order saga between the catalog and orders services, on real RabbitMQ."""

from __future__ import annotations

from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.catalog.service import CatalogService
from services.common.events import make_event
from services.orders.service import OrdersService
from tests.helpers import wait_for

MERCHANT = {"sub": "merchant-a", "role": "merchant"}
RESIDENT = {"sub": "resident-a", "role": "resident"}
HOME = {"address": "民意街12号", "location": {"lat": 30.5803, "lng": 114.2705}}


def start_both(container_factory, service_config):
    catalog = container_factory(CatalogService, service_config)
    orders = container_factory(OrdersService, service_config)
    catalog.start()
    orders.start()
    return catalog, orders


def make_shop(config, stock=3):
    with ServiceRpcProxy("catalog", config) as catalog:
        shop = catalog.create_merchant(actor=MERCHANT, merchant={
            "name": "社区食堂", "business_type": "elderly_care",
            "location": {"lat": 30.5812, "lng": 114.2698}, "address": "民意街1号"})
        meal = catalog.create_product(actor=MERCHANT, merchant_id=shop["id"], product={
            "name": "两荤一素套餐", "unit": "份", "price_fen": 1600, "stock": stock})
    return shop, meal


def stock_of(config, product_id):
    """(available, reserved) as the catalog reports them."""
    with ServiceRpcProxy("catalog", config) as rpc:
        product = rpc.get_product(product_id=product_id)
    return product["stock"], product["reserved"]


def placed_event(order_id, shop, meal, quantity):
    return make_event("order_placed", {
        "order_id": order_id, "resident_id": "resident-a", "merchant_id": shop["id"],
        "items": [{"product_id": meal["id"], "quantity": quantity}], "delivery": HOME},
        source="orders", correlation_id=order_id)


def order_body(shop, meal, quantity):
    return {"merchant_id": shop["id"], "items": [{"product_id": meal["id"],
                                                  "quantity": quantity}], "delivery": HOME}


def test_an_order_is_confirmed_with_prices_from_the_catalog(container_factory, service_config):
    catalog, orders = start_both(container_factory, service_config)
    shop, meal = make_shop(service_config)
    with ServiceRpcProxy("orders", service_config) as rpc:
        with entrypoint_waiter(orders, "on_stock_reserved"):
            placed = rpc.place_order(actor=RESIDENT, idempotency_key="key-0001",
                                     order=order_body(shop, meal, 2))
        order = rpc.get_order(actor=RESIDENT, order_id=placed["order"]["id"])
    assert order["status"] == "confirmed"
    assert order["total_fen"] == 3200
    assert order["lines"][0]["unit_price_fen"] == 1600
    assert stock_of(service_config, meal["id"]) == (1, 2)


def test_an_order_for_more_than_the_stock_is_rejected_and_nothing_is_held(
        container_factory, service_config):
    catalog, orders = start_both(container_factory, service_config)
    shop, meal = make_shop(service_config, stock=1)
    with ServiceRpcProxy("orders", service_config) as rpc:
        with entrypoint_waiter(orders, "on_stock_rejected"):
            placed = rpc.place_order(actor=RESIDENT, idempotency_key="key-0002",
                                     order=order_body(shop, meal, 2))
        order = rpc.get_order(actor=RESIDENT, order_id=placed["order"]["id"])
    assert order["status"] == "rejected"
    assert "out_of_stock" in order["reason"]
    assert stock_of(service_config, meal["id"]) == (1, 0)


def test_a_redelivered_order_placed_event_reserves_stock_only_once(
        container_factory, service_config):
    catalog = container_factory(CatalogService, service_config)
    catalog.start()
    shop, meal = make_shop(service_config, stock=5)
    event = placed_event("ord_" + "1" * 32, shop, meal, 2)
    dispatch = event_dispatcher(service_config)
    for _ in range(3):
        with entrypoint_waiter(catalog, "on_order_placed"):
            dispatch("orders", "order_placed", event)
    assert stock_of(service_config, meal["id"]) == (3, 2)


def test_a_cancellation_that_overtakes_its_order_leaves_the_stock_alone(
        container_factory, service_config):
    catalog = container_factory(CatalogService, service_config)
    catalog.start()
    shop, meal = make_shop(service_config, stock=5)
    order_id = "ord_" + "2" * 32
    items = [{"product_id": meal["id"], "quantity": 2}]
    cancelled = make_event("order_cancelled", {
        "order_id": order_id, "resident_id": "resident-a", "merchant_id": shop["id"],
        "merchant_owner_id": None, "merchant_name": None, "status": "cancelled",
        "previous_status": "pending", "items": items, "total_fen": None, "reason": None,
        "by": "resident-a"}, source="orders", correlation_id=order_id)
    placed = placed_event(order_id, shop, meal, 2)
    dispatch = event_dispatcher(service_config)
    with entrypoint_waiter(catalog, "on_order_cancelled"):
        dispatch("orders", "order_cancelled", cancelled)
    with entrypoint_waiter(catalog, "on_order_placed"):
        dispatch("orders", "order_placed", placed)
    assert stock_of(service_config, meal["id"]) == (5, 0)


def test_cancelling_a_confirmed_order_gives_the_stock_back(container_factory, service_config):
    catalog, orders = start_both(container_factory, service_config)
    shop, meal = make_shop(service_config, stock=4)
    with ServiceRpcProxy("orders", service_config) as rpc:
        with entrypoint_waiter(orders, "on_stock_reserved"):
            placed = rpc.place_order(actor=RESIDENT, idempotency_key="key-0003",
                                     order=order_body(shop, meal, 3))
        with entrypoint_waiter(catalog, "on_order_cancelled"):
            rpc.act(actor=RESIDENT, order_id=placed["order"]["id"], action="cancel")
    assert stock_of(service_config, meal["id"]) == (4, 0)


def test_a_confirmed_order_not_accepted_in_time_is_declined_and_released(
        container_factory, service_config):
    catalog, orders = start_both(container_factory, service_config)
    shop, meal = make_shop(service_config, stock=2)
    with ServiceRpcProxy("orders", service_config) as rpc:
        with entrypoint_waiter(orders, "on_stock_reserved"):
            placed = rpc.place_order(actor=RESIDENT, idempotency_key="key-0004",
                                     order=order_body(shop, meal, 2))
        order_id = placed["order"]["id"]
        # Eleven minutes later, by the service's clock: no real waiting.
        from datetime import timedelta

        clock = next(d for d in orders.dependencies if d.attr_name == "clock").clock
        clock.offset = timedelta(minutes=11)
        with entrypoint_waiter(catalog, "on_order_declined"):
            wait_for(lambda: rpc.get_order(actor=RESIDENT, order_id=order_id)["status"]
                     == "declined", timeout=20, what="automatic decline")
    assert stock_of(service_config, meal["id"]) == (2, 0)


def test_an_event_left_in_the_outbox_by_a_crash_is_published_by_the_relay(
        container_factory, service_config):
    from datetime import timedelta

    from services.common.events import utcnow
    from services.orders import records

    catalog, orders = start_both(container_factory, service_config)
    shop, meal = make_shop(service_config, stock=2)
    store = next(d for d in orders.dependencies if d.attr_name == "store").store
    # The state of a process that died between its write and its publish.
    doc = records.new_order("resident-a", "key-crash", order_body(shop, meal, 1), utcnow())
    event = records.placed_event(doc)
    event["occurred_at"] = (utcnow() - timedelta(minutes=1)).isoformat()
    store.insert_new(doc, [event])
    with entrypoint_waiter(orders, "on_stock_reserved", timeout=20):
        pass  # the relay publishes, the catalog reserves, orders confirms
    with ServiceRpcProxy("orders", service_config) as rpc:
        assert rpc.get_order(actor=RESIDENT, order_id=doc["_id"])["status"] == "confirmed"
