"""A scale's weighing checked against the catalog, and the codes the market hands out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.catalog import codes, scale_rules
from services.common.refusals import Forbidden, InvalidInput

GREENS = {"_id": "prd_1", "merchant_id": "mer_1", "sale_mode": "by_weight", "price_fen": 598,
          "price_per": "500g"}
SCALE = {"_id": "dev_1", "merchant_id": "mer_1", "kind": "scale"}


def posted(**changes):
    return {"grams": 750, "unit_price_fen": 598, "total_fen": 897, "batch": "B1", **changes}


def kinds(found):
    return [m["kind"] for m in found]


def test_the_catalog_total_is_the_order_pricing_rounded_half_up():
    assert scale_rules.catalog_total(GREENS, 750) == 897  # 598 * 750 / 500 = 897.0
    assert scale_rules.catalog_total({**GREENS, "price_fen": 1234}, 333) == 822  # 821.844


def test_a_weighing_that_agrees_with_the_catalog_has_no_mismatch():
    assert scale_rules.mismatches(GREENS, posted(), {"code": "B1"}) == []


def test_a_scale_charging_more_than_the_catalog_price_is_recorded_with_both_figures():
    found = scale_rules.mismatches(GREENS, posted(unit_price_fen=698, total_fen=1047),
                                   {"code": "B1"})
    assert found == [{"kind": "unit_price", "posted": 698, "catalog": 598},
                     {"kind": "total", "posted": 1047, "catalog": 897}]


def test_a_wrong_total_at_the_right_unit_price_is_a_total_mismatch():
    assert kinds(scale_rules.mismatches(GREENS, posted(total_fen=900), {"code": "B1"})) == [
        "total"]


def test_a_missing_or_unknown_batch_is_a_mismatch():
    assert kinds(scale_rules.mismatches(GREENS, posted(batch=None), None)) == ["no_batch"]
    assert kinds(scale_rules.mismatches(GREENS, posted(batch="B9"), None)) == ["unknown_batch"]


def test_a_short_shelf_is_recorded_with_what_was_sold_and_what_was_there():
    assert scale_rules.stock_short(200, 750) == {"kind": "stock_short", "posted": 750,
                                                 "catalog": 200}


def test_a_scale_sells_only_its_own_stalls_weighed_goods():
    scale_rules.check_scale_sells(SCALE, GREENS)
    with pytest.raises(Forbidden):
        scale_rules.check_scale_sells({**SCALE, "merchant_id": "mer_2"}, GREENS)
    with pytest.raises(InvalidInput):
        scale_rules.check_scale_sells(SCALE, {**GREENS, "sale_mode": "by_piece"})
    with pytest.raises(Forbidden):
        scale_rules.check_scale_sells({**SCALE, "kind": "recycling_box"}, GREENS)


def test_the_owner_or_the_markets_manager_manage_a_stalls_devices():
    stall = {"owner_id": "u-owner"}
    market = {"manager_id": "u-manager"}
    scale_rules.check_manages_stall({"sub": "u-owner", "role": "merchant"}, stall, None)
    scale_rules.check_manages_stall({"sub": "u-manager", "role": "market_manager"}, stall,
                                    market)
    for who, in_market in (({"sub": "u-manager", "role": "market_manager"}, None),
                           ({"sub": "u-other", "role": "market_manager"}, market),
                           ({"sub": "u-other", "role": "merchant"}, market)):
        with pytest.raises(Forbidden):
            scale_rules.check_manages_stall(who, stall, in_market)


def test_a_weighing_counts_on_the_markets_calendar_day():
    late = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 01:30 on the 2nd in Wuhan
    assert scale_rules.local_day(late, "Asia/Shanghai") == "2026-12-02"


def test_receipt_codes_are_ten_unambiguous_letters_and_differ():
    drawn = {codes.new_receipt_code() for _ in range(2000)}
    assert len(drawn) == 2000
    assert all(codes.is_receipt_code(c) for c in drawn)
    assert not any(set(c) & set("ILOU") for c in drawn)
    assert len(codes.RECEIPT_ALPHABET) == 32
    assert not codes.is_receipt_code("ABCDEFGHIL")  # L is not in the alphabet
    assert not codes.is_receipt_code("ABC")


def test_a_device_token_is_kept_only_as_its_hash():
    token = codes.new_device_token()
    assert codes.looks_like_device_token(token)
    digest = codes.token_hash(token)
    assert token not in digest and len(digest) == 64
    assert codes.token_hash(codes.new_device_token()) != digest


def test_a_batch_is_known_from_the_recorded_batches_or_the_products_own_origin():
    product = {**GREENS, "origin": {"batch": "DXH-1129", "place": "湖北武汉东西湖",
                                    "supplier": "东西湖蔬菜合作社", "arrival_date": "2026-11-29"}}
    assert scale_rules.known_batch(product, "DXH-1129", None) == {
        "code": "DXH-1129", "origin": "湖北武汉东西湖", "supplier": "东西湖蔬菜合作社",
        "arrived_on": "2026-11-29"}
    recorded = {"code": "B2", "origin": "x", "supplier": "y", "arrived_on": "2026-12-01"}
    assert scale_rules.known_batch(product, "B2", recorded) is recorded
    assert scale_rules.known_batch(product, "B3", None) is None
    assert scale_rules.known_batch(product, None, None) is None
