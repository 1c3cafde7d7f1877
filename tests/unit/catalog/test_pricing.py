import pytest

from services.catalog.pricing import line_price_fen, validate_quantity


def test_pieces_multiply_the_unit_price():
    assert line_price_fen("by_piece", 350, 3) == 1050


def test_price_per_is_ignored_for_pieces():
    assert line_price_fen("by_piece", 350, 2, price_per=None) == 700


def test_weight_per_jin_rounds_821_point_844_up_to_822():
    # 1234 fen per 500 g * 333 g = 821.844 fen
    assert line_price_fen("by_weight", 1234, 333, "500g") == 822


def test_weight_per_jin_rounds_an_exact_half_fen_up():
    # 1 fen per 500 g * 250 g = 0.5 fen -> 1; 3 fen * 250 g / 500 g = 1.5 -> 2
    assert line_price_fen("by_weight", 1, 250, "500g") == 1
    assert line_price_fen("by_weight", 3, 250, "500g") == 2


def test_weight_per_jin_rounds_just_below_half_down():
    # 999 fen per 500 g * 1 g = 1.998 -> 2; 1 fen per 500 g * 249 g = 0.498 -> 0
    assert line_price_fen("by_weight", 999, 1, "500g") == 2
    assert line_price_fen("by_weight", 1, 249, "500g") == 0


def test_weight_per_kilogram_rounds_half_up():
    # 1999 fen per kg * 1500 g = 2998.5 -> 2999
    assert line_price_fen("by_weight", 1999, 1500, "kg") == 2999
    # 1999 fen per kg * 1499 g = 2996.501 -> 2997
    assert line_price_fen("by_weight", 1999, 1499, "kg") == 2997
    # 1999 fen per kg * 1 g = 1.999 -> 2
    assert line_price_fen("by_weight", 1999, 1, "kg") == 2


def test_one_jin_at_the_jin_price_costs_exactly_the_price():
    assert line_price_fen("by_weight", 1234, 500, "500g") == 1234
    assert line_price_fen("by_weight", 1234, 1000, "kg") == 1234


def test_results_are_integers_never_floats():
    assert type(line_price_fen("by_weight", 1234, 333, "500g")) is int
    assert type(line_price_fen("by_piece", 1, 1)) is int


def test_rounding_matches_exact_decimal_half_up_over_many_values():
    from decimal import ROUND_HALF_UP, Decimal

    for price in (1, 7, 99, 1234, 5999):
        for grams in range(1, 1200, 7):
            for unit, per in ((500, "500g"), (1000, "kg")):
                exact = (Decimal(price) * grams / unit).quantize(Decimal(1), ROUND_HALF_UP)
                assert line_price_fen("by_weight", price, grams, per) == int(exact)


@pytest.mark.parametrize("per", [None, "jin", "g", "1kg"])
def test_weight_pricing_needs_a_known_price_unit(per):
    with pytest.raises(ValueError, match="price_per"):
        line_price_fen("by_weight", 1234, 333, per)


@pytest.mark.parametrize("price", [12.5, -1, "1234", True])
def test_prices_must_be_non_negative_integer_fen(price):
    with pytest.raises(ValueError, match="price_fen"):
        line_price_fen("by_piece", price, 1)


def test_an_unknown_sale_mode_is_rejected():
    with pytest.raises(ValueError, match="sale_mode"):
        line_price_fen("by_volume", 100, 1)


@pytest.mark.parametrize(
    ("mode", "qty"),
    [("by_piece", 1), ("by_piece", 999), ("by_weight", 1), ("by_weight", 50_000)],
)
def test_quantities_at_the_limits_are_accepted(mode, qty):
    assert validate_quantity(mode, qty) == qty


@pytest.mark.parametrize(
    ("mode", "qty"),
    [
        ("by_piece", 0),
        ("by_piece", -2),
        ("by_piece", 1.5),
        ("by_piece", 2.0),
        ("by_piece", True),
        ("by_piece", "3"),
        ("by_piece", 1000),
        ("by_weight", 0),
        ("by_weight", 50_001),
        ("by_weight", 333.3),
    ],
)
def test_bad_quantities_are_rejected(mode, qty):
    with pytest.raises(ValueError, match="quantity"):
        validate_quantity(mode, qty)


@pytest.mark.parametrize(("price_fen", "per"), [(1, "500g"), (1, "kg"), (3, "500g"), (100, "500g"),
                                                (333, "kg"), (499, "500g"), (500, "500g"),
                                                (10_000_000, "kg")])
def test_the_minimum_weight_is_the_least_that_costs_one_fen(price_fen, per):
    from services.catalog.pricing import min_quantity

    least = min_quantity("by_weight", price_fen, per)
    assert line_price_fen("by_weight", price_fen, least, per) >= 1
    if least > 1:
        assert line_price_fen("by_weight", price_fen, least - 1, per) == 0


def test_one_gram_of_cheap_greens_would_cost_nothing_so_the_minimum_is_higher():
    from services.catalog.pricing import min_quantity

    assert line_price_fen("by_weight", 100, 1, "500g") == 0  # the defect: 0.2 fen -> 0
    assert min_quantity("by_weight", 100, "500g") == 3  # 0.6 fen rounds up to 1
    assert min_quantity("by_weight", 1, "kg") == 500
    assert min_quantity("by_piece", 1) == 1
