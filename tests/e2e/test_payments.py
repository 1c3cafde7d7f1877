"""Paying for an order through HTTP against the running processes (sandbox provider)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.orders.payments import SandboxProvider
from tests.e2e.test_order_flow import notifications, place, settled
from tests.helpers import assert_error_shape, unique, wait_for

CALLBACK = "/api/v1/payments/callback/sandbox"


def confirmed(api, shop, resident, quantity=2):
    order = place(api, resident, shop.order_body(quantity=quantity)).json()
    order = settled(api, resident, order["id"])
    assert order["status"] == "confirmed", order
    return order


def start(api, resident, order_id, method="online"):
    return api.post(f"/api/v1/orders/{order_id}/payment", as_=resident, json={"method": method})


def sandbox_callback(reference, succeeded=True, amount_fen=3200, secret=None):
    """What the sandbox provider sends; the running system uses the default secret."""
    config = {"PAYMENT_SANDBOX_SECRET": secret} if secret else None
    return SandboxProvider(config).callback("payment", reference, succeeded, amount_fen,
                                            datetime.now(UTC))


def payment_of(api, who, order_id):
    return api.get(f"/api/v1/orders/{order_id}", as_=who).json()["payment"]


def test_a_resident_pays_online_and_a_declined_order_is_refunded(api, shop, resident):
    order = confirmed(api, shop, resident)
    assert order["payment"]["status"] == "unpaid" and order["payment"]["cash_allowed"] is True

    r = start(api, resident, order["id"])
    assert r.status_code == 200, r.text
    payment = r.json()["payment"]
    assert (payment["status"], payment["method"], payment["amount_fen"]) == ("pending",
                                                                             "online", 3200)
    assert payment["pay_url"] == f"/api/v1/payments/sandbox/{order['id']}"
    again = start(api, resident, order["id"]).json()["payment"]
    assert again["reference"] == payment["reference"]  # the same payment, not a second one

    r = api.post(payment["pay_url"], as_=resident, json={"outcome": "paid"})
    assert r.status_code == 200, r.text
    assert r.json()["payment"]["status"] == "paid"
    # The shop sees it was paid before it decides.
    assert payment_of(api, shop.owner, order["id"])["status"] == "paid"

    r = api.post(f"/api/v1/orders/{order['id']}/decline", as_=shop.owner,
                 json={"reason": "今日已售罄"})
    assert r.status_code == 200, r.text
    refunded = wait_for(lambda: (p := payment_of(api, resident, order["id"]))["status"]
                        == "refunded" and p, what="the automatic refund")
    assert refunded["paid_fen"] == refunded["refunded_fen"] == 3200
    assert [h["status"] for h in refunded["history"]] == ["pending", "paid", "refund_pending",
                                                          "refunded"]
    wait_for(lambda: {n["event_type"] for n in notifications(api, resident)["items"]}
             >= {"payment_succeeded", "payment_refunded"}, what="both payment notifications")


def test_a_forged_callback_is_refused_and_changes_nothing(api, shop, resident):
    order = confirmed(api, shop, resident)
    reference = start(api, resident, order["id"]).json()["payment"]["reference"]
    headers, body = sandbox_callback(reference, secret="not-the-providers-secret")
    assert_error_shape(api.post(CALLBACK, data=body, headers={
        **headers, "Content-Type": "application/json"}), 403, "bad_signature")
    # A genuine signature over another body: altered in transit.
    headers, body = sandbox_callback(reference, succeeded=False)
    altered = body.replace(b'"succeeded":false', b'"succeeded":true')
    assert_error_shape(api.post(CALLBACK, data=altered, headers=headers), 403, "bad_signature")
    # No signature at all, and an old signed one (a replay).
    assert_error_shape(api.post(CALLBACK, json={"id": "x", "kind": "payment"}), 403,
                       "bad_signature")
    old = int(datetime.now(UTC).timestamp()) - 3600
    signed = SandboxProvider(None).callback("payment", reference, True, 3200,
                                            datetime.fromtimestamp(old, UTC))
    assert_error_shape(api.post(CALLBACK, data=signed[1], headers=signed[0]), 403,
                       "bad_signature")
    assert payment_of(api, resident, order["id"])["status"] == "pending"


def test_the_same_callback_twice_is_counted_once(api, shop, resident):
    order = confirmed(api, shop, resident)
    reference = start(api, resident, order["id"]).json()["payment"]["reference"]
    headers, body = sandbox_callback(reference)
    first = api.post(CALLBACK, data=body, headers=headers)
    second = api.post(CALLBACK, data=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json() == {"received": True, "changed": True}
    assert second.json() == {"received": True, "changed": False}
    payment = payment_of(api, resident, order["id"])
    assert [h["status"] for h in payment["history"]] == ["pending", "paid"]
    assert payment["paid_fen"] == 3200
    paid = wait_for(lambda: [n for n in notifications(api, resident)["items"]
                             if n["event_type"] == "payment_succeeded"],
                    what="the payment notification")
    assert len(paid) == 1


def test_a_callback_for_an_unknown_payment_or_provider_is_a_404(api):
    headers, body = sandbox_callback("sbx_" + "0" * 32)
    assert_error_shape(api.post(CALLBACK, data=body, headers=headers), 404)
    assert_error_shape(api.post("/api/v1/payments/callback/nopay", data=body, headers=headers),
                       404)
    assert_error_shape(api.post("/api/v1/payments/callback/Bad..Name", data=body), 404)


def test_cash_on_delivery_is_the_shops_choice(api, shop, resident):
    order = confirmed(api, shop, resident, quantity=1)
    r = start(api, resident, order["id"], "cash")
    assert r.status_code == 200, r.text
    assert (r.json()["payment"]["method"], r.json()["payment"]["status"]) == ("cash", "unpaid")

    r = api.patch(f"/api/v1/merchants/{shop.merchant['id']}", as_=shop.owner,
                  json={"cash_on_delivery": False})
    assert r.status_code == 200 and r.json()["cash_on_delivery"] is False, r.text
    order = confirmed(api, shop, resident, quantity=1)
    assert order["payment"]["cash_allowed"] is False
    assert_error_shape(start(api, resident, order["id"], "cash"), 409, "cash_not_accepted")
    assert start(api, resident, order["id"], "online").status_code == 200


def test_an_order_cannot_be_paid_before_it_is_confirmed_or_by_someone_else(api, shop,
                                                                          resident):
    order = confirmed(api, shop, resident, quantity=1)
    other = (unique("resident"), "resident")
    assert_error_shape(start(api, other, order["id"]), 404)
    assert_error_shape(api.post(f"/api/v1/payments/sandbox/{order['id']}", as_=resident), 409,
                       "no_pending_payment")
    assert_error_shape(api.post(f"/api/v1/orders/{order['id']}/payment", as_=resident,
                                json={"method": "bitcoin"}), 422)
    r = api.post(f"/api/v1/orders/{order['id']}/cancel", as_=resident)
    assert r.status_code == 200
    assert_error_shape(start(api, resident, order["id"]), 409, "not_payable")


def test_a_failed_payment_can_be_tried_again(api, shop, resident):
    order = confirmed(api, shop, resident, quantity=1)
    first = start(api, resident, order["id"]).json()["payment"]
    r = api.post(first["pay_url"], as_=resident, json={"outcome": "failed"})
    assert r.json()["payment"]["status"] == "unpaid", r.text
    second = start(api, resident, order["id"]).json()["payment"]
    assert second["status"] == "pending" and second["reference"] != first["reference"]
    wait_for(lambda: any(n["event_type"] == "payment_failed"
                         for n in notifications(api, resident)["items"]),
             what="the failed-payment notification")
