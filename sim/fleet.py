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
    "handyman": (("plumbing", "electrical", "appliances", "carpentry"), 0.40),
    "electrician": (("electrical", "appliances"), 0.12),
    "plumber": (("plumbing", "locks"), 0.12),
    "locksmith": (("locks", "carpentry"), 0.06),
    "cleaner": (("cleaning",), 0.18),
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


def _largest_remainder(shares: np.ndarray, n: int) -> list[int]:
    quotas = shares * n
    counts = np.floor(quotas).astype(int)
    for k in np.argsort(counts - quotas, kind="stable")[: n - counts.sum()]:
        counts[k] += 1
    return counts.tolist()


def build_fleet(city: City, size: int, seed: int, now: datetime) -> list[dict]:
    """`size` technicians; the same seed and size give the same fleet, and a bigger fleet of
    the same seed keeps the smaller one's technicians (so fleet curves are comparable)."""
    rng = np.random.default_rng([seed, 3])
    trades = list(TRADES)
    trade_shares = np.array([TRADES[t][1] for t in trades])
    mix = shift_mix()
    fleet = []
    # Drawn one by one from a stream, so technician k is the same in every fleet size.
    for k in range(size):
        trade = trades[rng.choice(len(trades), p=trade_shares / trade_shares.sum())]
        pattern = SHIFT_PATTERNS[rng.choice(len(SHIFT_PATTERNS), p=mix)]
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
