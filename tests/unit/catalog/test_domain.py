"""Catalog rules used when an order arrives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.catalog import domain, records
from services.common.geo import TravelModel

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
SHOP = records.new_merchant("owner", {
    "name": "王阿姨蔬菜摊", "business_type": "wet_market", "address": "菜场A区",
    "location": {"lat": 30.5789, "lng": 114.2694},
    "delivery": {"max_walk_minutes": 10, "fee_fen": 200, "min_order_fen": 1000}}, NOW)
GREENS = records.new_product(SHOP, {"name": "上海青", "sale_mode": "by_weight",
                                   "price_per": "500g", "price_fen": 300, "stock": 5000}, NOW)


def test_goods_by_weight_are_priced_per_gram_and_rounded_to_the_fen():
    line = domain.priced_line(GREENS, 750)  # 1.5 jin at 3 yuan a jin
    assert line["line_total_fen"] == 450
    assert line["unit"] == "500g" and line["price_per"] == "500g"


def test_an_order_below_the_minimum_is_refused():
    with pytest.raises(domain.Rejection) as refused:
        domain.totals(SHOP, [domain.priced_line(GREENS, 500)])
    assert refused.value.reason == "below_minimum_order"


def test_the_delivery_fee_is_added_to_the_total():
    amounts = domain.totals(SHOP, [domain.priced_line(GREENS, 2000)])
    assert amounts == {"items_total_fen": 1200, "delivery_fee_fen": 200, "total_fen": 1400}


def test_an_address_beyond_the_shops_delivery_walk_is_refused():
    model = TravelModel()
    domain.check_delivery(SHOP, {"lat": 30.5800, "lng": 114.2700}, model)  # ~130 m
    with pytest.raises(domain.Rejection) as refused:
        domain.check_delivery(SHOP, {"lat": 30.5900, "lng": 114.2694}, model)  # ~1.2 km
    assert refused.value.reason == "out_of_delivery_range"


def test_unavailable_and_foreign_goods_cannot_be_ordered():
    hidden = {**GREENS, "available": False}
    with pytest.raises(domain.Rejection, match="not available"):
        domain.check_line(SHOP["_id"], hidden, hidden["_id"], 500)
    with pytest.raises(domain.Rejection) as refused:
        domain.check_line("mer_other", GREENS, GREENS["_id"], 500)
    assert refused.value.reason == "unknown_product"


def test_a_line_that_would_cost_0_fen_is_rejected_naming_the_least_weight():
    cheap = {**GREENS, "price_fen": 100}  # 1 yuan a jin: 1 g is 0.2 fen
    with pytest.raises(domain.Rejection) as refused:
        domain.check_line(SHOP["_id"], cheap, cheap["_id"], 2)
    assert refused.value.reason == "below_minimum_quantity"
    assert "3 g" in refused.value.message
    assert domain.check_line(SHOP["_id"], cheap, cheap["_id"], 3) is cheap
    assert domain.priced_line(cheap, 3)["line_total_fen"] == 1


def test_a_product_shows_the_least_quantity_an_order_may_ask_for():
    assert records.public_product({**GREENS, "price_fen": 100})["min_quantity"] == 3
    assert records.public_product(GREENS)["min_quantity"] == 1  # 300 fen/jin: 1 g is 0.6 fen
