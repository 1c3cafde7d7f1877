"""End-to-end fixtures: a merchant with goods in the shared running system."""

from __future__ import annotations

import copy

import pytest

from tests.helpers import unique

HOME = {"address": "江汉区民意街12号3单元502", "location": {"lat": 30.5803, "lng": 114.2705}}


class Shop:
    def __init__(self, api, stock: int = 10):
        self.api = api
        self.owner = (unique("merchant"), "merchant")
        r = api.post("/api/v1/merchants", as_=self.owner, json={
            "name": "民意街社区长者食堂", "business_type": "elderly_care",
            "location": {"lat": 30.5812, "lng": 114.2698}, "address": "民意街社区服务中心"})
        assert r.status_code == 201, r.text
        self.merchant = r.json()
        self.meal = self.add_product(name="两荤一素套餐", unit="份", price_fen=1600, stock=stock)

    def add_product(self, **product):
        r = self.api.post(f"/api/v1/merchants/{self.merchant['id']}/products", as_=self.owner,
                          json=product)
        assert r.status_code == 201, r.text
        return r.json()

    def product(self, product_id=None):
        r = self.api.get(f"/api/v1/products/{product_id or self.meal['id']}", as_=self.owner)
        assert r.status_code == 200, r.text
        return r.json()

    def order_body(self, quantity=1, product=None):
        return {"merchant_id": self.merchant["id"],
                "items": [{"product_id": (product or self.meal)["id"], "quantity": quantity}],
                "delivery": copy.deepcopy(HOME)}


@pytest.fixture
def shop(api):
    return Shop(api)


def awake(api, who):
    """Residents' default quiet hours (22:00-07:00 in the city) hold non-urgent messages;
    tests that read a resident's inbox must not depend on the time of day they run at."""
    r = api.request("PUT", "/api/v1/me/notification-preferences", as_=who,
                    json={"quiet_hours": None})
    assert r.status_code == 200, r.text
    return who


@pytest.fixture
def resident(api):
    return awake(api, (unique("resident"), "resident"))
