"""Walking model and H3 candidate-cell lookup shared by catalog and dispatch.

Pure functions only: no I/O.  Distances are great-circle ("straight-line") metres on a
spherical Earth; walking time is derived from them through a simple detour model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Real
from typing import Any

import h3

# IUGG mean Earth radius; the same sphere is used everywhere in this module so that
# haversine distances and the H3 cell geometry (which h3 gives as angles) agree.
EARTH_RADIUS_M = 6371008.8

# Resolution 9 cells have ~175 m edges (~0.1 km²).  A 15-minute walk is ~865 m in a straight
# line, so the candidate disk is k≈5-6 (~100 cells): small enough for an `$in` query on a
# stored cell id, fine enough that the disk over-fetches little beyond the walking circle.
# Res 8 (~460 m edges) would fetch ~3x the needed area; res 10 would need ~500 cells.
H3_RESOLUTION = 9

# Reject radii beyond any "walking distance" use; they would also yield huge disks.
MAX_RADIUS_M = 50_000.0
# Hard cap on the grid-disk radius (a k-disk has 3k(k+1)+1 cells: k=400 → ~481k cells).
MAX_K = 400
# Safety margin for floating-point error in cell boundaries and distances.
_MARGIN_M = 0.5


def validate_lat_lng(lat: Any, lng: Any) -> tuple[float, float]:
    """Raise ValueError unless lat/lng are finite numbers in range; return them as floats."""
    for name, value, limit in (("lat", lat, 90.0), ("lng", lng, 180.0)):
        # bool is an int subclass; True as a coordinate is always a bug.
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"{name} must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if not -limit <= value <= limit:
            raise ValueError(f"{name} must be between {-limit:g} and {limit:g}, got {value!r}")
    return float(lat), float(lng)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    # min() guards against a>1 from rounding for antipodal points.
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def destination(
    lat: float, lng: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """Point reached by travelling distance_m along a great circle at the given bearing."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    phi1, lmb1 = math.radians(lat), math.radians(lng)
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * sin_phi2,
    )
    lng2 = (math.degrees(lmb2) + 540.0) % 360.0 - 180.0
    return math.degrees(phi2), lng2


@dataclass(frozen=True)
class TravelModel:
    """Straight-line distance → walking time.

    Defaults: 75 m/min is 4.5 km/h, a typical adult walking pace (slower walkers such as the
    elderly can use a custom model).  Street networks make real routes longer than the straight
    line; a detour factor of 1.3 is a common urban average (grid streets ~1.2-1.4).
    """

    speed_m_per_min: float = 75.0
    detour_factor: float = 1.3

    def __post_init__(self) -> None:
        if not (math.isfinite(self.speed_m_per_min) and self.speed_m_per_min > 0):
            raise ValueError("speed_m_per_min must be a positive finite number")
        if not (math.isfinite(self.detour_factor) and self.detour_factor >= 1.0):
            raise ValueError("detour_factor must be >= 1 (a route is never shorter than a line)")

    def minutes_for(self, distance_m: float) -> float:
        """Walking minutes for a straight-line distance."""
        if distance_m < 0:
            raise ValueError("distance_m must be >= 0")
        return distance_m * self.detour_factor / self.speed_m_per_min

    def max_distance_m(self, minutes: float) -> float:
        """Largest straight-line distance walkable in the given minutes (inverse of minutes_for)."""
        if minutes < 0:
            raise ValueError("minutes must be >= 0")
        return minutes * self.speed_m_per_min / self.detour_factor


DEFAULT_MODEL = TravelModel()


def cell_for(lat: float, lng: float, res: int = H3_RESOLUTION) -> str:
    """H3 cell id (hex string) containing the point."""
    lat, lng = validate_lat_lng(lat, lng)
    return h3.latlng_to_cell(lat, lng, res)


# --- candidate_cells -------------------------------------------------------------------------
# Guarantee argument: let D_k = grid_disk(origin_cell, k).  If a point P within radius r lay
# outside D_k, the shortest arc O→P (every point of which is within r of O) would have to leave
# D_k, i.e. pass through a neighbour of D_k that is not in D_k — a cell of ring k+1.  So if
# every cell of ring k+1 is farther than r from O (exact point-to-polygon distance on the
# sphere), D_k contains every point within r.  That test is monotone in k, so we start from an
# estimate based on the local edge length and step to the smallest k that passes.  This is
# exact for the actual local cell geometry, so global size variation of H3 cells and the
# origin's offset from its cell centre are accounted for automatically.

_Vec = tuple[float, float, float]


def _vec(lat: float, lng: float) -> _Vec:
    phi, lmb = math.radians(lat), math.radians(lng)
    c = math.cos(phi)
    return (c * math.cos(lmb), c * math.sin(lmb), math.sin(phi))


def _cross(a: _Vec, b: _Vec) -> _Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: _Vec, b: _Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(a: _Vec) -> float:
    return math.sqrt(_dot(a, a))


def _angle(a: _Vec, b: _Vec) -> float:
    # atan2 form is accurate for tiny angles, unlike acos(dot).
    return math.atan2(_norm(_cross(a, b)), _dot(a, b))


def _point_arc_angle(p: _Vec, a: _Vec, b: _Vec) -> float:
    """Angular distance from p to the minor great-circle arc a-b."""
    n = _cross(a, b)
    nn = _norm(n)
    if nn < 1e-15:
        return _angle(p, a)
    n = (n[0] / nn, n[1] / nn, n[2] / nn)
    s = _dot(p, n)
    foot = (p[0] - s * n[0], p[1] - s * n[1], p[2] - s * n[2])
    # foot lies between a and b iff it is on the inner side of both end points.
    if _dot(_cross(a, foot), n) >= 0 and _dot(_cross(foot, b), n) >= 0 and _norm(foot) > 1e-15:
        return math.asin(min(1.0, abs(s)))
    return min(_angle(p, a), _angle(p, b))


def _cell_distance_m(p: _Vec, cell: str) -> float:
    """Distance in metres from p (outside the cell) to the cell's boundary."""
    verts = [_vec(lat, lng) for lat, lng in h3.cell_to_boundary(cell)]
    best = math.inf
    for i, a in enumerate(verts):
        b = verts[(i + 1) % len(verts)]
        best = min(best, _point_arc_angle(p, a, b))
    return best * EARTH_RADIUS_M


class _Rings:
    """Rings of the grid disk around `origin`, computed lazily.

    h3.grid_ring is fast but may refuse near pentagons; we then fall back to a breadth-first
    walk over neighbours, which is exactly how h3 defines grid distance (and grid_disk) there.
    """

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self._layers: list[set[str]] | None = None  # BFS layers, only in fallback mode
        self._seen: set[str] = set()

    def __call__(self, k: int) -> Iterable[str]:
        if self._layers is None:
            try:
                return h3.grid_ring(self.origin, k)
            except h3.H3BaseException:
                self._layers = [{self.origin}]
                self._seen = {self.origin}
        layers = self._layers
        while len(layers) <= k:
            nxt = {n for c in layers[-1] for n in h3.grid_disk(c, 1) if n not in self._seen}
            self._seen |= nxt
            layers.append(nxt)
        return layers[k]


def _disk_suffices(rings: _Rings, p: _Vec, k: int, radius_m: float) -> bool:
    limit = radius_m + _MARGIN_M
    return all(_cell_distance_m(p, c) > limit for c in rings(k + 1))


def _too_many(radius_m: float, res: int) -> ValueError:
    return ValueError(f"radius_m {radius_m:g} needs too many cells at res {res}; use a coarser res")


def candidate_k(lat: float, lng: float, radius_m: float, res: int = H3_RESOLUTION) -> int:
    """Smallest grid-disk k around the point's cell provably covering radius_m (see above)."""
    lat, lng = validate_lat_lng(lat, lng)
    if isinstance(radius_m, bool) or not isinstance(radius_m, Real) or not math.isfinite(radius_m):
        raise ValueError("radius_m must be a finite number")
    if radius_m < 0:
        raise ValueError("radius_m must be >= 0")
    if radius_m > MAX_RADIUS_M:
        raise ValueError(f"radius_m {radius_m:g} exceeds the {MAX_RADIUS_M:g} m limit")
    origin = h3.latlng_to_cell(lat, lng, res)
    rings = _Rings(origin)
    p = _vec(lat, lng)

    def ok(k: int) -> bool:
        return _disk_suffices(rings, p, k, radius_m)

    # Estimate: on a regular hex grid ring k+1 starts ~1.5*edge*k from the centre.  Only a
    # starting point — correctness comes from ok(), which is monotone in k.
    edge = min(h3.edge_length(e, "m") for e in h3.origin_to_directed_edges(origin))
    offset = haversine_m(lat, lng, *h3.cell_to_latlng(origin))
    k = max(0, math.ceil((radius_m + offset) / (1.5 * edge)) - 1)
    if k > MAX_K:
        raise _too_many(radius_m, res)
    if ok(k):
        while k > 0 and ok(k - 1):
            k -= 1
        return k
    # Gallop upwards to a passing k, then binary-search the smallest one.
    lo, step = k, 1  # invariant: ok(lo) is False
    while True:
        hi = min(lo + step, MAX_K)
        if ok(hi):
            break
        if hi == MAX_K:
            raise _too_many(radius_m, res)
        lo, step = hi, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def candidate_cells(lat: float, lng: float, radius_m: float, res: int = H3_RESOLUTION) -> list[str]:
    """H3 cells (grid disk around the origin's cell) guaranteed to contain every point within
    radius_m straight-line distance of (lat, lng).  Sorted for deterministic queries."""
    k = candidate_k(lat, lng, radius_m, res)
    return sorted(h3.grid_disk(h3.latlng_to_cell(lat, lng, res), k))


def _default_key(p: dict) -> tuple[float, float]:
    return p["lat"], p["lng"]


def within(
    origin_lat: float,
    origin_lng: float,
    points: Iterable[dict],
    minutes: float,
    model: TravelModel = DEFAULT_MODEL,
    key: Callable[[Any], tuple[float, float]] = _default_key,
) -> list[tuple[dict, float, float]]:
    """(point, distance_m, walk_minutes) for points walkable within `minutes`, nearest first.

    `key` extracts (lat, lng) from a point; the default reads p["lat"], p["lng"].  For records
    shaped like {"location": {"lat", "lng"}} pass
    key=lambda p: (p["location"]["lat"], p["location"]["lng"]).  Ties keep input order.
    """
    origin_lat, origin_lng = validate_lat_lng(origin_lat, origin_lng)
    if minutes < 0:
        raise ValueError("minutes must be >= 0")
    out: list[tuple[dict, float, float]] = []
    for point in points:
        lat, lng = validate_lat_lng(*key(point))
        dist = haversine_m(origin_lat, origin_lng, lat, lng)
        walk = model.minutes_for(dist)
        if walk <= minutes:
            out.append((point, dist, walk))
    out.sort(key=lambda t: t[1])  # list.sort is stable: equal distances keep input order
    return out
