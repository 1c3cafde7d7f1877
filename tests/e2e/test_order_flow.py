"""The home-delivery order flow through HTTP against the running processes."""

from __future__ import annotations

import threading
import uuid

from tests.e2e.conftest import Shop
from tests.helpers import assert_error_shape, unique, wait_for


def place(api, resident, body, key=None):
    return api.post("/api/v1/orders", as_=resident, json=body,
                    headers={"Idempotency-Key": key or str(uuid.uuid4())})


def settled(api, resident, order_id, statuses=("confirmed", "rejected")):
    def check():
        order = api.get(f"/api/v1/orders/{order_id}", as_=resident).json()
        return order if order["status"] in statuses else None

    return wait_for(check, timeout=15, what=f"order {order_id} to reach {statuses}")


def notifications(api, who):
    return api.get("/api/v1/notifications", as_=who).json()


def test_a_resident_orders_lunch_and_it_is_delivered(api, shop, resident):
    r = place(api, resident, shop.order_body(quantity=2))
    assert r.status_code == 202, r.text
    order = r.json()
    assert order["status"] == "pending"

    order = settled(api, resident, order["id"])
    assert order["status"] == "confirmed"
    assert order["total_fen"] == 3200 and order["merchant_name"] == "民意街社区长者食堂"

    for action in ("accept", "dispatch", "deliver"):
        r = api.post(f"/api/v1/orders/{order['id']}/{action}", as_=shop.owner)
        assert r.status_code == 200, r.text
    final = api.get(f"/api/v1/orders/{order['id']}", as_=resident).json()
    assert final["status"] == "delivered"
    assert [h["status"] for h in final["history"]] == [
        "pending", "confirmed", "accepted", "out_for_delivery", "delivered"]
    product = shop.product()
    assert (product["stock"], product["reserved"], product["sold"]) == (8, 0, 2)

    inbox = wait_for(lambda: (n := notifications(api, resident))["total"] >= 4 and n,
                     what="the resident's notifications")
    kinds = [n["event_type"] for n in inbox["items"]]
    assert kinds[0] == "order_delivered"  # newest first
    assert {"order_confirmed", "order_accepted", "order_out_for_delivery"} <= set(kinds)
    assert inbox["unread_count"] == inbox["total"]
    shop_inbox = wait_for(lambda: notifications(api, shop.owner)["items"], what="merchant inbox")
    assert shop_inbox[0]["event_type"] == "order_confirmed"


def test_reading_a_notification_lowers_the_unread_count(api, shop, resident):
    order = place(api, resident, shop.order_body()).json()
    settled(api, resident, order["id"])
    first = wait_for(lambda: notifications(api, resident)["items"], what="a notification")[0]
    r = api.post(f"/api/v1/notifications/{first['id']}/read", as_=resident)
    assert r.status_code == 200 and r.json()["read"] is True
    assert notifications(api, resident)["unread_count"] == 0
    stranger = (unique("resident"), "resident")
    assert_error_shape(api.post(f"/api/v1/notifications/{first['id']}/read", as_=stranger),
                       404, "not_found")


def test_an_order_for_more_than_is_in_stock_is_rejected_with_the_reason(api, shop, resident):
    order = place(api, resident, shop.order_body(quantity=11)).json()
    order = settled(api, resident, order["id"])
    assert order["status"] == "rejected"
    assert "out_of_stock" in order["reason"]
    assert shop.product()["stock"] == 10


def test_two_residents_racing_for_the_last_meals_one_wins_and_stock_ends_at_zero(api):
    shop = Shop(api, stock=3)
    racers = [(unique("resident"), "resident") for _ in range(6)]
    for who in racers:
        api.token(*who)
    results: dict = {}

    def go(who):
        results[who] = place(api, who, shop.order_body(quantity=3)).json()["id"]

    threads = [threading.Thread(target=go, args=(who,)) for who in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = [settled(api, who, oid)["status"] for who, oid in results.items()]
    assert sorted(final) == ["confirmed"] + ["rejected"] * 5
    product = shop.product()
    assert (product["stock"], product["reserved"]) == (0, 3)


def test_cancelling_before_delivery_returns_the_stock(api, shop, resident):
    order = place(api, resident, shop.order_body(quantity=4)).json()
    settled(api, resident, order["id"])
    assert shop.product()["stock"] == 6
    r = api.post(f"/api/v1/orders/{order['id']}/cancel", as_=resident,
                 json={"reason": "家里来客人了"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    wait_for(lambda: shop.product()["stock"] == 10, what="stock to come back")
    merchant_inbox = wait_for(
        lambda: [n for n in notifications(api, shop.owner)["items"]
                 if n["event_type"] == "order_cancelled"], what="merchant told of cancel")
    assert merchant_inbox


def test_an_order_out_for_delivery_cannot_be_cancelled(api, shop, resident):
    order = place(api, resident, shop.order_body()).json()
    settled(api, resident, order["id"])
    for action in ("accept", "dispatch"):
        api.post(f"/api/v1/orders/{order['id']}/{action}", as_=shop.owner)
    error = assert_error_shape(api.post(f"/api/v1/orders/{order['id']}/cancel", as_=resident),
                               409, "illegal_transition")
    assert error["details"]["status"] == "out_for_delivery"


def test_retrying_the_same_order_returns_the_same_order_and_a_changed_body_conflicts(
        api, shop, resident):
    key = str(uuid.uuid4())
    first = place(api, resident, shop.order_body(quantity=1), key)
    again = place(api, resident, shop.order_body(quantity=1), key)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    settled(api, resident, first.json()["id"])
    assert shop.product()["stock"] == 9  # reserved once
    assert_error_shape(place(api, resident, shop.order_body(quantity=2), key),
                       409, "idempotency_key_reused")
    # The key belongs to the resident: another resident's identical key is a new order.
    other = (unique("resident"), "resident")
    assert place(api, other, shop.order_body(quantity=1), key).json()["id"] != first.json()["id"]


def test_nobody_else_can_see_or_change_an_order(api, shop, resident):
    order = place(api, resident, shop.order_body()).json()
    settled(api, resident, order["id"])
    neighbour = (unique("resident"), "resident")
    other_shop = (unique("merchant"), "merchant")
    assert_error_shape(api.get(f"/api/v1/orders/{order['id']}", as_=neighbour), 404)
    assert_error_shape(api.get(f"/api/v1/orders/{order['id']}", as_=other_shop), 404)
    assert_error_shape(api.post(f"/api/v1/orders/{order['id']}/cancel", as_=neighbour), 404)
    assert_error_shape(api.post(f"/api/v1/orders/{order['id']}/accept", as_=other_shop), 404)
    assert_error_shape(api.post(f"/api/v1/orders/{order['id']}/accept", as_=resident), 403)
    assert api.get("/api/v1/orders", as_=neighbour).json()["total"] == 0
    assert api.get(f"/api/v1/orders/{order['id']}", as_=("ops", "admin")).status_code == 200
    mine = api.get("/api/v1/orders", as_=resident).json()
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    incoming = api.get("/api/v1/orders", as_=shop.owner).json()
    assert order["id"] in [o["id"] for o in incoming["items"]]


def test_only_the_owner_can_change_a_shops_goods(api, shop):
    intruder = (unique("merchant"), "merchant")
    path = f"/api/v1/products/{shop.meal['id']}"
    assert_error_shape(api.patch(path, as_=intruder, json={"price_fen": 1}), 403, "forbidden")
    assert_error_shape(api.post(f"/api/v1/merchants/{shop.merchant['id']}/products",
                                as_=intruder, json={"name": "x", "unit": "份", "price_fen": 1,
                                                    "stock": 1}), 403, "forbidden")
    assert_error_shape(api.patch(path, as_=(unique("resident"), "resident"),
                                 json={"price_fen": 1}), 403, "forbidden")
    assert shop.product()["price_fen"] == 1600
    r = api.patch(path, as_=shop.owner, json={"price_fen": 1500, "stock": 20})
    assert r.status_code == 200 and (r.json()["price_fen"], r.json()["stock"]) == (1500, 20)


def test_a_line_worth_less_than_1_fen_is_rejected_and_the_product_says_the_least(
        api, shop, resident):
    """1 g of greens at 1 yuan a jin is 0.2 fen: once rounded to 0 and confirmed, an order
    the shop had to weigh and deliver for nothing."""
    greens = shop.add_product(name="小白菜", sale_mode="by_weight", price_per="500g",
                              price_fen=100, stock=5000)
    assert greens["min_quantity"] == 3  # 0.6 fen rounds up to 1
    body = {**shop.order_body(), "items": [{"product_id": greens["id"], "quantity": 1}]}
    order = settled(api, resident, place(api, resident, body).json()["id"])
    assert order["status"] == "rejected" and order["total_fen"] is None
    assert "below_minimum_quantity" in order["reason"] and "3 g" in order["reason"]
    assert shop.product(greens["id"])["reserved"] == 0

    # The price is checked where it is owned, when the order is served: a price cut after
    # the resident looked cannot make a line free either.
    r = api.patch(f"/api/v1/products/{greens['id']}", as_=shop.owner, json={"price_fen": 1})
    assert r.status_code == 200 and r.json()["min_quantity"] == 250
    body["items"] = [{"product_id": greens["id"], "quantity": 200}, shop.order_body()["items"][0]]
    order = settled(api, resident, place(api, resident, body).json()["id"])
    assert order["status"] == "rejected" and "250 g" in order["reason"]

    body["items"][0]["quantity"] = 250
    order = settled(api, resident, place(api, resident, body).json()["id"])
    assert order["status"] == "confirmed", order
    assert [line["line_total_fen"] for line in order["lines"]] == [1, 1600]
