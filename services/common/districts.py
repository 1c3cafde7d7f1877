"""District outlines shipped with the code (WGS84 GeoJSON under geodata/, see its README).

Pure functions over plain data: an outline is a list of (lat, lng) vertices of one exterior
ring (the first vertex is not repeated at the end).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from services.common.geo import EARTH_RADIUS_M

GEODATA = Path(__file__).with_name("geodata")


@dataclass(frozen=True)
class District:
    name: str
    outline: tuple[tuple[float, float], ...]  # (lat, lng), open ring

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lng, max_lat, max_lng)."""
        lats = [p[0] for p in self.outline]
        lngs = [p[1] for p in self.outline]
        return min(lats), min(lngs), max(lats), max(lngs)

    def contains(self, lat: float, lng: float) -> bool:
        return point_in_polygon(lat, lng, self.outline)

    def area_km2(self) -> float:
        return polygon_area_km2(self.outline)


def _load(path: Path) -> District:
    collection = json.loads(path.read_text(encoding="utf-8"))
    (feature,) = collection["features"]
    ring = feature["geometry"]["coordinates"][0]  # exterior ring; the outlines have no holes
    if ring[0] == ring[-1]:
        ring = ring[:-1]
    outline = tuple((float(lat), float(lng)) for lng, lat in ring)  # GeoJSON is lng, lat
    return District(name=feature["properties"]["name"], outline=outline)


@cache
def jianghan() -> District:
    """江汉区, Wuhan: about 28 km², the old town along the Yangtze in its south-east."""
    return _load(GEODATA / "jianghan.geojson")


def point_in_polygon(lat: float, lng: float, outline: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd ray casting; exact enough for a district (planar in degrees at this scale)."""
    inside = False
    n = len(outline)
    for i in range(n):
        lat1, lng1 = outline[i]
        lat2, lng2 = outline[(i + 1) % n]
        if (lat1 > lat) != (lat2 > lat):
            cross_lng = lng1 + (lat - lat1) * (lng2 - lng1) / (lat2 - lat1)
            if lng < cross_lng:
                inside = not inside
    return inside


def polygon_area_km2(outline: tuple[tuple[float, float], ...]) -> float:
    """Area by the shoelace formula on a local equirectangular projection (error well under
    0.1 % for a district a few km across)."""
    lat0 = math.radians(sum(p[0] for p in outline) / len(outline))
    k = math.radians(1) * EARTH_RADIUS_M
    pts = [(lng * k * math.cos(lat0), lat * k) for lat, lng in outline]
    twice = sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1], strict=True)
    )
    return abs(twice) / 2 / 1e6
