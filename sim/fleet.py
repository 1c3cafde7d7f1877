"""Technicians: skills by trade, shifts fitted to the daily curve, homes, travel modes.

Each technician is the dispatch service's own document (records.new_technician), so the real
ranking reads exactly what it reads in production.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from scipy.optimize import nnls

from services.dispatch import records
from sim.city import City
from sim.demand import HOURLY

# trade -> (skills, share of the fleet)
TRADES: dict[str, tuple[tuple[str, ...], float]] = {
    "handyman": (("plumbing", "electrical", "appliances", "carpentry"), 0.36),
    "electrician": (("electrical", "appliances"), 0.12),
    "plumber": (("plumbing", "locks"), 0.12),
    "locksmith": (("locks", "carpentry"), 0.06),
    "cleaner": (("cleaning",), 0.22),
    "barber": (("haircut_home",), 0.07),
    "tailor": (("tailoring",), 0.05),
}
EBIKE_SHARE = 0.65
# Local shift patterns; the mix is fitted so that technicians on shift follow the demand.
SHIFT_PATTERNS = [("07:00", "15:00"), ("09:00", "17:00"), ("11:00", "19:00"),
                  ("14:00", "22:00"), ("16:00", "24:00")]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hour(hhmm: str) -> int:
    return int(hhmm.split(":")[0])


def shift_mix() -> np.ndarray:
    """Share of the fleet on each pattern: non-negative least squares of hourly coverage
    against the demand curve (each hour's demand keeps a technician ~1 h busy)."""
    hours = range(7, 24)
    cover = np.array([[1.0 if _hour(a) <= h < _hour(b) else 0.0 for a, b in SHIFT_PATTERNS]
                      for h in hours])
    target = np.array([HOURLY[h] + (HOURLY[h - 1] if h else 0) for h in hours], dtype=float)
    mix, _ = nnls(cover, target)
    return mix / mix.sum()


def _apportion(shares: np.ndarray, counts: np.ndarray) -> int:
    """The next pick of a sequence that keeps every kind's count at its share (the kind
    furthest below its quota, lowest index on ties): nested, so the first n picks of a
    longer sequence are the n picks of a shorter one."""
    k = int(np.argmax(shares * (counts.sum() + 1) - counts))
    counts[k] += 1
    return k


def build_fleet(city: City, size: int, seed: int, now: datetime) -> list[dict]:
    """`size` technicians; the same seed and size give the same fleet, and a bigger fleet of
    the same seed keeps the smaller one's technicians (so fleet curves are comparable)."""
    rng = np.random.default_rng([seed, 3])
    trades = list(TRADES)
    trade_shares = np.array([TRADES[t][1] for t in trades])
    trade_shares /= trade_shares.sum()
    trade_counts = np.zeros(len(trades))
    mix = shift_mix()
    pattern_counts = {t: np.zeros(len(SHIFT_PATTERNS)) for t in trades}
    fleet = []
    # Trades and shifts are apportioned exactly (no luck of the draw in who is hired); the
    # rest is drawn one technician at a time, so technician k is the same in every size.
    for k in range(size):
        trade = trades[_apportion(trade_shares, trade_counts)]
        pattern = SHIFT_PATTERNS[_apportion(mix, pattern_counts[trade])]
        home = city.homes[rng.integers(len(city.homes))]
        mode = "ebike" if rng.random() < EBIKE_SHARE else "walking"
        rating = round(float(rng.uniform(4.0, 5.0)), 2)
        count = int(rng.integers(5, 200))
        doc = records.new_technician({
            "sub": f"sim-tech-{k:04d}", "name": f"Technician {k}", "skills": list(TRADES[trade][0]),
            "home": {"lat": float(home[0]), "lng": float(home[1])},
            "shifts": {day: [list(pattern)] for day in _DAYS},
            "travel_mode": mode, "status": "offline"}, now)
        doc.update(_id=f"tec_{k:04d}", trade=trade, rating_count=count,
                   rating_sum=round(rating * count), rating_avg=rating)
        fleet.append(doc)
    return fleet
