"""Public catalog reads come from the gateway's memory, and are never staler than a second
after the catalog's change."""

from __future__ import annotations

import time

import requests

from tests.helpers import unique, wait_for


def read_fresh_connection(api, path, who):
    """A new connection each time, so that every gateway worker gets asked."""
    return requests.get(f"{api.base_url}{path}", timeout=10,
                        headers={"Authorization": f"Bearer {api.token(*who)}"})


def test_a_product_read_twice_is_served_from_the_gateways_memory(api, shop):
    reader = (unique("resident"), "resident")
    path = f"/api/v1/products/{shop.meal['id']}"
    hits = wait_for(lambda: [r for r in (api.get(path, as_=reader) for _ in range(5))
                             if r.headers.get("X-Cache") == "hit"],
                    what="a read served from memory")
    assert hits[0].status_code == 200 and hits[0].json()["id"] == shop.meal["id"]
    assert hits[0].headers["X-Request-Id"]


def test_a_price_changed_through_the_api_is_read_by_everyone_within_a_second(api, shop):
    readers = [(unique("resident"), "resident") for _ in range(3)]
    path = f"/api/v1/products/{shop.meal['id']}"
    for _ in range(4):  # copies in every worker
        for who in readers:
            assert read_fresh_connection(api, path, who).json()["price_fen"] == 1600

    r = api.patch(path, as_=shop.owner, json={"price_fen": 1888})
    assert r.status_code == 200
    changed = time.monotonic()
    wait_for(lambda: {read_fresh_connection(api, path, who).json()["price_fen"]
                      for _ in range(2) for who in readers} == {1888},
             timeout=10, what="every reader sees the new price")
    assert time.monotonic() - changed <= 1.0, "never staler than a second"


def test_a_shops_goods_list_shows_a_new_product_within_a_second(api, shop):
    reader = (unique("resident"), "resident")
    path = f"/api/v1/merchants/{shop.merchant['id']}/products"
    assert read_fresh_connection(api, path, reader).json()["total"] == 1
    added = shop.add_product(name="豆浆", unit="杯", price_fen=300, stock=50)
    changed = time.monotonic()
    wait_for(lambda: all(added["id"] in [p["id"] for p in read_fresh_connection(
        api, path, reader).json()["items"]] for _ in range(4)), timeout=10,
        what="the new product listed by every worker")
    assert time.monotonic() - changed <= 1.0, "never staler than a second"


def test_without_a_token_a_cached_product_is_still_refused(api, shop):
    reader = (unique("resident"), "resident")
    path = f"/api/v1/products/{shop.meal['id']}"
    api.get(path, as_=reader)
    r = requests.get(f"{api.base_url}{path}", timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_the_catalog_announces_every_change_the_public_can_see(system, api, shop):
    from services.gateway.subscriber import EventSubscriber

    heard: list[dict] = []
    listener = EventSubscriber(system.env["AMQP_URI"], "catalog",
                               ("product_changed", "merchant_changed"), heard.append)
    listener.start()
    try:
        assert listener.subscribed.wait(15)
        path = f"/api/v1/products/{shop.meal['id']}"
        assert api.patch(path, as_=shop.owner, json={"price_fen": 1700}).status_code == 200
        assert api.request("PATCH", f"/api/v1/merchants/{shop.merchant['id']}",
                           as_=shop.owner, json={"name": "民意街长者食堂"}).status_code == 200
        added = shop.add_product(name="油条", unit="根", price_fen=150, stock=20)
        assert api.request("DELETE", f"/api/v1/products/{added['id']}",
                           as_=shop.owner).status_code == 204
        wanted = {("product_changed", shop.meal["id"], "updated"),
                  ("merchant_changed", shop.merchant["id"], "updated"),
                  ("product_changed", added["id"], "created"),
                  ("product_changed", added["id"], "deleted")}
        wait_for(lambda: wanted <= {(e["type"], e["correlation_id"], e["data"]["change"])
                                    for e in heard}, timeout=10, what="the change events")
    finally:
        listener.stop()
