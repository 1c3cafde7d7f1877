"""Payment rules: when a resident may pay and how, and what each callback does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.errors import Conflict, NotFound
from services.orders import payment_rules as rules
from services.orders import records

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
BODY = {"merchant_id": "mer_1", "items": [{"product_id": "prd_1", "quantity": 1}],
        "delivery": {"address": "x", "location": {"lat": 30.5, "lng": 114.2}}, "note": None}


def order(status="confirmed", payment_status="unpaid", cash_allowed=True, reference=None):
    doc = records.new_order("li", "key-1", BODY, NOW)
    doc.update(status=status, merchant_owner_id="canteen", total_fen=1600)
    doc["payment"].update(status=payment_status, cash_allowed=cash_allowed,
                          reference=reference)
    return doc


def outcome(kind="payment", succeeded=True, reference="sbx_1", event_id="evt-1"):
    return rules.CallbackOutcome(event_id, kind, reference, succeeded, 1600)


@pytest.mark.parametrize("status", ["confirmed", "accepted", "out_for_delivery"])
def test_a_confirmed_order_can_be_paid_online_or_in_cash(status):
    rules.check_start(order(status), "online")
    rules.check_start(order(status), "cash")


@pytest.mark.parametrize("status", ["pending", "rejected", "declined", "delivered", "cancelled"])
def test_an_order_without_prices_or_already_over_cannot_be_paid(status):
    with pytest.raises(Conflict) as refused:
        rules.check_start(order(status), "online")
    assert refused.value.error_code == "not_payable"


def test_cash_is_refused_when_the_shop_does_not_take_it():
    with pytest.raises(Conflict) as refused:
        rules.check_start(order(cash_allowed=False), "cash")
    assert refused.value.error_code == "cash_not_accepted"
    rules.check_start(order(cash_allowed=False), "online")


@pytest.mark.parametrize("payment_status", ["paid", "refund_pending", "refunded"])
def test_a_paid_order_cannot_be_paid_again(payment_status):
    with pytest.raises(Conflict) as refused:
        rules.check_start(order(payment_status=payment_status), "online")
    assert refused.value.error_code == "already_paid"


def test_paying_online_twice_answers_with_the_pending_payment():
    pending = order(payment_status="pending")
    rules.check_start(pending, "online")
    assert rules.reuses_pending(pending, "online")
    with pytest.raises(Conflict):
        rules.check_start(pending, "cash")


def test_a_successful_payment_callback_pays_a_pending_payment():
    assert rules.after_callback(order(payment_status="pending"), outcome()) == ("pending",
                                                                               "paid")


def test_a_failed_payment_callback_leaves_the_order_unpaid():
    assert rules.after_callback(order(payment_status="pending"),
                                outcome(succeeded=False)) == ("pending", "unpaid")


@pytest.mark.parametrize("status", ["declined", "cancelled"])
def test_money_arriving_for_a_closed_order_goes_straight_to_refund(status):
    assert rules.after_callback(order(status, payment_status="pending"),
                                outcome()) == ("pending", "refund_pending")


@pytest.mark.parametrize("payment_status", ["unpaid", "paid", "refund_pending", "refunded"])
def test_a_late_or_repeated_payment_callback_changes_nothing(payment_status):
    assert rules.after_callback(order(payment_status=payment_status), outcome()) is None


def test_a_refund_callback_completes_a_pending_refund_only():
    assert rules.after_callback(order(payment_status="refund_pending"),
                                outcome("refund")) == ("refund_pending", "refunded")
    assert rules.after_callback(order(payment_status="refunded"), outcome("refund")) is None
    assert rules.after_callback(order(payment_status="refund_pending"),
                                outcome("refund", succeeded=False)) is None


def test_a_callback_must_name_the_orders_current_payment():
    with pytest.raises(NotFound):
        rules.check_reference(order(reference="sbx_1"), outcome(reference="sbx_2"))
    with pytest.raises(NotFound):
        rules.check_reference(None, outcome())


@pytest.mark.parametrize("status, payment_status, refund", [
    ("cancelled", "paid", True), ("declined", "paid", True), ("cancelled", "unpaid", False),
    ("delivered", "paid", False), ("cancelled", "refunded", False),
])
def test_only_a_paid_order_that_closed_needs_a_refund(status, payment_status, refund):
    assert rules.needs_refund(order(status, payment_status)) is refund


def test_refunds_are_retried_later_and_later_but_never_given_up():
    waits = [rules.refund_retry_at(NOW, n, 10, 600) - NOW for n in (1, 2, 3, 10, 1000)]
    assert waits[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert waits[3] == waits[4] == timedelta(seconds=600)
