"""The city: Jianghan's H3 cells, homes spread by population density, and shops.

Density is a plausible model, not census data: a floor everywhere plus a Gaussian bump on the
old town (the Hankou riverside around Jianghan Road, in the district's south-east), so cells
there hold about four times the people of the newer north-west.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import h3
import numpy as np

from services.common.districts import District, jianghan
from services.common.geo import H3_RESOLUTION, haversine_m

POPULATION = 480_000
OLD_TOWN = (30.582, 114.285)  # Jianghan Road / the Hankou riverside, WGS84
OLD_TOWN_SIGMA_M = 1_800.0
DENSITY_FLOOR = 0.3  # relative to the old town's peak of 1 + floor
AREA_RES = 8  # ~0.7 km² cells: where demand is learned and technicians reposition to


@dataclass
class City:
    district: District
    cells: list[str]  # res-9 cells whose centre is inside the outline
    weights: np.ndarray  # population share per cell (sums to 1)
    homes: np.ndarray  # (n, 2) lat, lng
    home_cells: list[str]  # res-9 cell of each home
    shops: np.ndarray  # (m, 2) lat, lng
    shop_staff: list[int]
    area_points: dict[str, tuple[float, float]] = field(default_factory=dict)  # res-8 centres

    @property
    def population_by_cell(self) -> dict[str, float]:
        return {c: POPULATION * float(w) for c, w in zip(self.cells, self.weights, strict=True)}


def density(lat: float, lng: float) -> float:
    d = haversine_m(lat, lng, *OLD_TOWN)
    return DENSITY_FLOOR + math.exp(-0.5 * (d / OLD_TOWN_SIGMA_M) ** 2)


def _points_in_cells(rng: np.random.Generator, district: District, cells: list[str],
                     cell_idx: np.ndarray) -> np.ndarray:
    """One uniform random point inside each chosen cell (and inside the district)."""
    out = np.empty((len(cell_idx), 2))
    # A cell whose corners are all inside needs no outline test (the outline is smooth at
    # the scale of a 175 m cell); only the cells on the edge do.
    inner = {c: all(district.contains(*v) for v in h3.cell_to_boundary(c)) for c in cells}
    for k, ci in enumerate(cell_idx):
        cell = cells[ci]
        boundary = h3.cell_to_boundary(cell)
        lats = [p[0] for p in boundary]
        lngs = [p[1] for p in boundary]
        for _ in range(100):
            lat = rng.uniform(min(lats), max(lats))
            lng = rng.uniform(min(lngs), max(lngs))
            if h3.latlng_to_cell(lat, lng, H3_RESOLUTION) == cell and (
                    inner[cell] or district.contains(lat, lng)):
                break
        else:  # a sliver cell at the edge: its centre is inside by construction
            lat, lng = h3.cell_to_latlng(cell)
        out[k] = lat, lng
    return out


def build_city(seed: int, homes: int = 12_000, shops: int = 600) -> City:
    """The same seed gives the same city (the days vary, the city does not)."""
    rng = np.random.default_rng(seed)
    district = jianghan()
    poly = h3.LatLngPoly(list(district.outline))
    cells = sorted(c for c in h3.polygon_to_cells(poly, H3_RESOLUTION)
                   if district.contains(*h3.cell_to_latlng(c)))
    dens = np.array([density(*h3.cell_to_latlng(c)) for c in cells])
    weights = dens / dens.sum()
    home_idx = rng.choice(len(cells), size=homes, p=weights)
    home_pts = _points_in_cells(rng, district, cells, home_idx)
    shop_idx = rng.choice(len(cells), size=shops, p=weights)  # shops follow people
    shop_pts = _points_in_cells(rng, district, cells, shop_idx)
    staff = rng.choice([1, 2, 3], size=shops, p=[0.5, 0.35, 0.15]).tolist()
    city = City(district, cells, weights, home_pts, [cells[i] for i in home_idx], shop_pts, staff)
    city.area_points = _area_points(city)
    return city


def _area_points(city: City) -> dict[str, tuple[float, float]]:
    """A target point for each res-8 area: the mean of its homes (always in the district)."""
    sums: dict[str, list[float]] = {}
    members: dict[str, list[int]] = {}
    for k, ((lat, lng), cell) in enumerate(zip(city.homes, city.home_cells, strict=True)):
        area = h3.cell_to_parent(cell, AREA_RES)
        members.setdefault(area, []).append(k)
        s = sums.setdefault(area, [0.0, 0.0, 0.0])
        s[0] += lat
        s[1] += lng
        s[2] += 1
    # The nearest home to the mean, so the point is a real address inside the outline.
    out = {}
    for area, (slat, slng, n) in sorted(sums.items()):
        mlat, mlng = slat / n, slng / n
        best = min(members[area], key=lambda k: (city.homes[k][0] - mlat) ** 2
                   + (city.homes[k][1] - mlng) ** 2)
        out[area] = (float(city.homes[best][0]), float(city.homes[best][1]))
    return out


def area_of(cell: str) -> str:
    return h3.cell_to_parent(cell, AREA_RES)
