"""What a drop-off earns at a recycling point's posted rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog import recycling_rules
from services.common.refusals import InvalidInput

RATES = {"paper": 800, "plastic": 1200, "metal": 2500, "textile": 300}  # fen per kg


def test_each_category_earns_its_rate_per_kg_rounded_half_up():
    items = [{"category": "paper", "grams": 3250}, {"category": "metal", "grams": 410}]
    # 800 * 3.25 = 2600; 2500 * 0.41 = 1025
    assert recycling_rules.earned_fen(RATES, items) == 2600 + 1025
    assert recycling_rules.earned_fen(RATES, [{"category": "textile", "grams": 5}]) == 2  # 1.5
    assert recycling_rules.earned_fen(RATES, [{"category": "textile", "grams": 1}]) == 0


def test_a_category_counts_once_per_drop_off():
    with pytest.raises(InvalidInput):
        recycling_rules.check_items([{"category": "paper", "grams": 1},
                                     {"category": "paper", "grams": 2}])


def test_a_drop_off_code_is_usable_only_before_it_expires():
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    assert recycling_rules.code_usable({"expires_at": now + timedelta(seconds=1)}, now)
    assert not recycling_rules.code_usable({"expires_at": now}, now)
    assert not recycling_rules.code_usable(None, now)


def test_only_a_recycling_point_posts_rates():
    recycling_rules.check_point({"business_type": "recycling"})
    with pytest.raises(InvalidInput):
        recycling_rules.check_point({"business_type": "wet_market"})
