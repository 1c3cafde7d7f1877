"""Paying for an order and refunds, in the orders service on a real broker (sandbox provider)."""

from __future__ import annotations

from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter

from services.common.events import make_event
from services.orders.payments import ProviderError
from tests.helpers import wait_for
from tests.integration.orders.test_order_saga import (
    RESIDENT,
    make_shop,
    order_body,
    start_both,
)


def dependency(container, name):
    return next(d for d in container.dependencies if d.attr_name == name)


def confirmed_order(orders, rpc, config, key):
    shop, meal = make_shop(config)
    with entrypoint_waiter(orders, "on_stock_reserved"):
        placed = rpc.place_order(actor=RESIDENT, idempotency_key=key,
                                 order=order_body(shop, meal, 2))
    return placed["order"]["id"]


def paid_order(orders, rpc, config, key):
    order_id = confirmed_order(orders, rpc, config, key)
    started = rpc.start_payment(actor=RESIDENT, order_id=order_id,
                                payment={"method": "online"})
    assert started["payment"]["status"] == "pending"
    paid = rpc.sandbox_pay(actor=RESIDENT, order_id=order_id, outcome="paid")
    assert paid["payment"]["status"] == "paid" and paid["payment"]["paid_fen"] == 3200
    return order_id


def count_refunds(orders):
    """Wrap the provider's refund so the test sees how often money was sent back."""
    provider = dependency(orders, "payments").provider
    calls = []
    real = provider.refund

    def refund(reference, amount_fen, refund_id):
        calls.append((reference, amount_fen, refund_id))
        return real(reference, amount_fen, refund_id)

    provider.refund = refund
    return calls


def statuses(order):
    return [h["status"] for h in order["payment"]["history"]]


def cancelled_event(order_id, shop_id="mer_x"):
    return make_event("order_cancelled", {
        "order_id": order_id, "resident_id": RESIDENT["sub"], "merchant_id": shop_id,
        "merchant_owner_id": "merchant-a", "merchant_name": "社区食堂", "status": "cancelled",
        "previous_status": "confirmed", "items": [{"product_id": "prd_x", "quantity": 2}],
        "total_fen": 3200, "reason": None, "by": RESIDENT["sub"]},
        source="orders", correlation_id=order_id)


def test_a_paid_order_cancelled_is_refunded_exactly_once_under_redelivery(
        container_factory, service_config):
    _catalog, orders = start_both(container_factory, service_config)
    refunds = count_refunds(orders)
    with ServiceRpcProxy("orders", service_config) as rpc:
        order_id = paid_order(orders, rpc, service_config, "pay-key-0001")
        with entrypoint_waiter(orders, "on_order_cancelled"):
            rpc.act(actor=RESIDENT, order_id=order_id, action="cancel")
        order = rpc.get_order(actor=RESIDENT, order_id=order_id)
        assert order["payment"]["status"] == "refunded"
        # The broker delivers the cancellation again, three times.
        dispatch = event_dispatcher(service_config)
        for _ in range(3):
            with entrypoint_waiter(orders, "on_order_cancelled"):
                dispatch("orders", "order_cancelled", cancelled_event(order_id))
        order = rpc.get_order(actor=RESIDENT, order_id=order_id)
    assert len(refunds) == 1 and refunds[0][1] == 3200
    assert order["payment"]["refunded_fen"] == 3200
    assert statuses(order) == ["pending", "paid", "refund_pending", "refunded"]


def test_a_paid_order_the_shop_does_not_accept_in_time_is_refunded(
        container_factory, service_config):
    from datetime import timedelta

    _catalog, orders = start_both(container_factory, service_config)
    refunds = count_refunds(orders)
    with ServiceRpcProxy("orders", service_config) as rpc:
        order_id = paid_order(orders, rpc, service_config, "pay-key-0002")
        dependency(orders, "clock").clock.offset = timedelta(minutes=11)
        order = wait_for(lambda: (o := rpc.get_order(actor=RESIDENT, order_id=order_id))
                         ["payment"]["status"] == "refunded" and o, timeout=20,
                         what="the refund of an expired order")
    assert order["status"] == "declined"
    assert len(refunds) == 1


def test_the_same_provider_callback_twice_is_counted_once(container_factory, service_config):
    _catalog, orders = start_both(container_factory, service_config)
    with ServiceRpcProxy("orders", service_config) as rpc:
        order_id = confirmed_order(orders, rpc, service_config, "pay-key-0003")
        started = rpc.start_payment(actor=RESIDENT, order_id=order_id,
                                    payment={"method": "online"})
        provider = dependency(orders, "payments").provider
        clock = dependency(orders, "clock").clock
        headers, body = provider.callback("payment", started["payment"]["reference"], True,
                                          3200, clock.now())
        first = rpc.payment_callback(provider="sandbox", headers=headers, body=body.decode())
        again = rpc.payment_callback(provider="sandbox", headers=headers, body=body.decode())
        order = rpc.get_order(actor=RESIDENT, order_id=order_id)
    assert first == {"received": True, "changed": True}
    assert again == {"received": True, "changed": False}
    assert statuses(order) == ["pending", "paid"] and order["payment"]["paid_fen"] == 3200


def test_a_refund_the_provider_refuses_is_retried_until_it_is_done(
        container_factory, service_config):
    config = {**service_config, "PAYMENT_TIMER_SECONDS": 0.2,
              "PAYMENT_REFUND_RETRY_BASE_SECONDS": 0.1,
              "PAYMENT_REFUND_RETRY_MAX_SECONDS": 0.2}
    _catalog, orders = start_both(container_factory, config)
    provider = dependency(orders, "payments").provider
    real, failures = provider.refund, []

    def flaky(reference, amount_fen, refund_id):
        if len(failures) < 3:
            failures.append(refund_id)
            raise ProviderError("provider down")
        return real(reference, amount_fen, refund_id)

    provider.refund = flaky
    with ServiceRpcProxy("orders", config) as rpc:
        order_id = paid_order(orders, rpc, config, "pay-key-0004")
        rpc.act(actor=RESIDENT, order_id=order_id, action="cancel")
        order = wait_for(lambda: (o := rpc.get_order(actor=RESIDENT, order_id=order_id))
                         ["payment"]["status"] == "refunded" and o, timeout=20,
                         what="the refund after the provider recovers")
    assert len(failures) == 3 and len(set(failures)) == 1  # the same refund id every time
    assert statuses(order) == ["pending", "paid", "refund_pending", "refunded"]
