"""Line pricing in integer fen (1 yuan = 100 fen).  Floats never enter a money result.

Sale modes:
* "by_piece":  quantity is a whole number of pieces; price_fen is per piece.  The display unit
  (盒/瓶/份/box ...) is free text on the product and irrelevant to arithmetic.
* "by_weight": quantity is grams; price_fen is per `price_per`, either "500g" (one jin, the
  usual unit at Chinese markets) or "kg".  Stock for such products is also kept in grams.

Rounding rule (the only one): a weighed line is price_fen * grams / unit_grams rounded half up
to the nearest fen, computed with integers only.  Prices and quantities are non-negative, so
"half up" and "half away from zero" coincide.  Example: 1234 fen/500 g × 333 g = 821.844 → 822.

A line costs at least 1 fen (MIN_LINE_FEN): 1 g of greens at 100 fen/500 g would round to 0
fen, an order the shop must weigh and deliver for nothing.  ``min_quantity`` is the least
quantity of a product that costs that much; it follows from the price, so it is right
whatever the price becomes.
"""

from __future__ import annotations

from typing import Any

BY_PIECE = "by_piece"
BY_WEIGHT = "by_weight"
SALE_MODES: tuple[str, ...] = (BY_PIECE, BY_WEIGHT)

PRICE_PER_GRAMS: dict[str, int] = {"500g": 500, "kg": 1000}

MAX_PIECES = 999  # per order line; larger counts are data-entry errors for a walk-in shop
MIN_WEIGHT_G = 1
MAX_WEIGHT_G = 50_000  # 50 kg: more than anyone carries home on foot
MIN_LINE_FEN = 1


def _is_int(value: Any) -> bool:
    # bool is an int subclass; reject it so True never means "1 piece".
    return isinstance(value, int) and not isinstance(value, bool)


def _check_mode(sale_mode: Any) -> None:
    if sale_mode not in SALE_MODES:
        raise ValueError(f"sale_mode must be one of {', '.join(SALE_MODES)}, got {sale_mode!r}")


def unit_grams(price_per: Any) -> int:
    """Grams in a by-weight price unit ("500g" -> 500, "kg" -> 1000)."""
    try:
        return PRICE_PER_GRAMS[price_per]
    except (KeyError, TypeError):
        raise ValueError(
            f"price_per must be one of {', '.join(PRICE_PER_GRAMS)} for by_weight, "
            f"got {price_per!r}"
        ) from None


def validate_price_fen(price_fen: Any) -> int:
    if not _is_int(price_fen):
        raise ValueError(f"price_fen must be an integer number of fen, got {price_fen!r}")
    if price_fen < 0:
        raise ValueError("price_fen must be >= 0")
    return price_fen


def validate_quantity(sale_mode: str, quantity: Any) -> int:
    """Return quantity if valid: whole pieces (1..MAX_PIECES) or grams (1 g..50 kg)."""
    _check_mode(sale_mode)
    if not _is_int(quantity):
        raise ValueError(f"quantity must be a whole number, got {quantity!r}")
    if sale_mode == BY_PIECE:
        if not 1 <= quantity <= MAX_PIECES:
            raise ValueError(f"quantity must be between 1 and {MAX_PIECES} pieces, got {quantity}")
    elif not MIN_WEIGHT_G <= quantity <= MAX_WEIGHT_G:
        raise ValueError(
            f"quantity must be between {MIN_WEIGHT_G} g and {MAX_WEIGHT_G} g, got {quantity}"
        )
    return quantity


def line_price_fen(
    sale_mode: str, price_fen: int, quantity: int, price_per: str | None = None
) -> int:
    """Price of one order line in fen.  price_per is required for by_weight and ignored for
    by_piece (so stored products may carry it as None)."""
    _check_mode(sale_mode)
    validate_price_fen(price_fen)
    validate_quantity(sale_mode, quantity)
    if sale_mode == BY_PIECE:
        return price_fen * quantity
    unit = unit_grams(price_per)
    # Half up in integers: floor((2*p*q + unit) / (2*unit)) == floor(p*q/unit + 1/2).
    return (2 * price_fen * quantity + unit) // (2 * unit)


def min_quantity(sale_mode: str, price_fen: int, price_per: str | None = None) -> int:
    """The least quantity whose line costs at least MIN_LINE_FEN: 1 piece, or the grams at
    which the half-up rounding first reaches 1 fen (ceil(unit / (2 * price)), at least 1 g).
    Example: 100 fen/500 g -> 3 g (0.6 fen rounds to 1); 1 fen/kg -> 500 g."""
    _check_mode(sale_mode)
    validate_price_fen(price_fen)
    if sale_mode == BY_PIECE:
        return 1
    if price_fen == 0:
        raise ValueError("a free product sold by weight has no quantity worth 1 fen")
    unit = unit_grams(price_per)
    # line >= 1  <=>  2*p*q + unit >= 2*unit  <=>  q >= unit / (2*p)
    return max(MIN_WEIGHT_G, -(-unit // (2 * price_fen)))
