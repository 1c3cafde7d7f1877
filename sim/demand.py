"""What residents ask for in a day: repair requests and delivery orders.

Repairs are a Poisson process per H3 cell whose rate follows the cell's population and a daily
curve. By superposition that is one Poisson process for the district with the summed rate,
each request landing in a cell with probability proportional to its rate; that is how it is
drawn. Everything random about a request (its job duration, patience, how each technician
offered it responds) is drawn here, up front, so every policy meets exactly the same day.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.city import City, area_of

SKILLS_FILE = Path(__file__).resolve().parent.parent / "services" / "dispatch" / "skills.json"

# Requests per hour of the local day, relative (07:00-23:00; the service sleeps at night).
# Morning peak (before work: leaks, no power) and a higher evening peak (after work).
HOURLY = [0, 0, 0, 0, 0, 0, 0, 3, 6, 8, 7, 6, 5, 5, 5, 5, 6, 7, 9, 9, 8, 5, 3, 0]

# skill -> (share of requests, median job minutes, lognormal sigma, share booked for later)
SKILL_MIX: dict[str, tuple[float, float, float, float]] = {
    "plumbing": (0.24, 30, 0.5, 0.05),
    "electrical": (0.18, 30, 0.5, 0.05),
    "appliances": (0.18, 40, 0.5, 0.15),
    "locks": (0.10, 15, 0.4, 0.0),
    "carpentry": (0.08, 40, 0.5, 0.2),
    "cleaning": (0.12, 90, 0.35, 0.7),
    "haircut_home": (0.06, 30, 0.3, 0.8),
    "tailoring": (0.04, 20, 0.4, 0.6),
}

ACCEPT_MEDIAN_S = 30.0  # a technician answers an offer in ~30 s (lognormal, sigma 0.8)
ACCEPT_SIGMA = 0.8
DECLINE_P = 0.07
CANNOT_FIX_P = 0.03
PATIENCE_MEDIAN_MIN = 45.0  # an unserved resident gives up after ~45 min, never before 20
PATIENCE_MIN_MIN = 20.0
RATE_P = 0.6
LAST_BOOKING_S = 21 * 3600
OFFERS_DRAWN = 12  # responses drawn per request; more offers than that reuse the last


def skill_codes() -> list[str]:
    return [s["code"] for s in json.loads(SKILLS_FILE.read_text())["skills"]]


@dataclass(frozen=True)
class Request:
    n: int
    created_s: float  # seconds after local midnight
    lat: float
    lng: float
    cell: str
    skill: str
    booked_s: float | None  # the booked start of the window, for a booking for later
    duration_min: float
    patience_min: float  # minutes after the window starts when an unserved resident cancels
    cannot_fix: bool
    stars: int | None  # the resident's rating after completion, or None (does not rate)
    responses: tuple[tuple[float, bool], ...]  # (seconds to answer, declines) per offer

    @property
    def window_s(self) -> float:
        return self.booked_s if self.booked_s is not None else self.created_s


@dataclass(frozen=True)
class Order:
    n: int
    created_s: float
    lat: float
    lng: float
    cell: str
    prep_min: float
    pick: float  # uniform draw that picks one of the shops within reach


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    weights = np.array(HOURLY, dtype=float)
    hours = rng.choice(24, size=n, p=weights / weights.sum())
    return np.sort(hours * 3600 + rng.uniform(0, 3600, size=n))


def repairs_for_day(city: City, seed: int, expected: float = 2000) -> list[Request]:
    """A day's repair requests, in order of creation. The same seed gives the same day."""
    unknown = set(SKILL_MIX) - set(skill_codes())
    if unknown:
        raise ValueError(f"skills not in skills.json: {sorted(unknown)}")
    rng = np.random.default_rng([seed, 1])
    n = int(rng.poisson(expected))
    created = _times(rng, n)
    homes = rng.integers(0, len(city.homes), size=n)
    codes = list(SKILL_MIX)
    shares = np.array([SKILL_MIX[c][0] for c in codes])
    skills = rng.choice(len(codes), size=n, p=shares / shares.sum())
    out = []
    for k in range(n):
        skill = codes[skills[k]]
        _, median, sigma, booked_share = SKILL_MIX[skill]
        booked = None
        if rng.random() < booked_share:
            # Booked 1-4 hours ahead, on a quarter hour; later than 21:00 it would be
            # tomorrow's, so such a resident asks for now instead.
            ahead = created[k] + rng.uniform(3600, 4 * 3600)
            booked = np.ceil(ahead / 900) * 900
            if booked > LAST_BOOKING_S:
                booked = None
        responses = tuple(
            (float(rng.lognormal(np.log(ACCEPT_MEDIAN_S), ACCEPT_SIGMA)),
             bool(rng.random() < DECLINE_P))
            for _ in range(OFFERS_DRAWN))
        home = homes[k]
        out.append(Request(
            n=k, created_s=float(created[k]), lat=float(city.homes[home][0]),
            lng=float(city.homes[home][1]), cell=city.home_cells[home], skill=skill,
            booked_s=None if booked is None else float(booked),
            duration_min=float(rng.lognormal(np.log(median), sigma)),
            patience_min=max(PATIENCE_MIN_MIN,
                             float(rng.lognormal(np.log(PATIENCE_MEDIAN_MIN), 0.5))),
            cannot_fix=bool(rng.random() < CANNOT_FIX_P),
            stars=int(rng.choice([3, 4, 5], p=[0.1, 0.3, 0.6])) if rng.random() < RATE_P else None,
            responses=responses))
    return out


def orders_for_day(city: City, seed: int, expected: float = 3000) -> list[Order]:
    """Home-delivery orders (same daily curve), each a prep time at the shop."""
    rng = np.random.default_rng([seed, 2])
    n = int(rng.poisson(expected))
    created = _times(rng, n)
    homes = rng.integers(0, len(city.homes), size=n)
    return [Order(k, float(created[k]), float(city.homes[h][0]), float(city.homes[h][1]),
                  city.home_cells[h], float(rng.uniform(2, 8)), float(rng.random()))
            for k, h in enumerate(homes)]


def learn_demand(city: City, seeds: list[int], expected: float = 2000
                 ) -> dict[tuple[int, str, str], float]:
    """Mean requests per (local hour, res-8 area, skill) over previous days' requests: what a
    district learns from its history, used to reposition idle technicians."""
    counts: dict[tuple[int, str, str], float] = defaultdict(float)
    for s in seeds:
        for r in repairs_for_day(city, s, expected):
            counts[(int(r.window_s // 3600), area_of(r.cell), r.skill)] += 1.0 / len(seeds)
    return dict(counts)
