"""Gap analysis: which business types does a life circle lack?

A type is *covered* at an origin when some merchant whose primary or secondary type is that
type is within the type's target walk (10 or 15 minutes, see taxonomy).  Also helpers for
planners' area maps: H3 cells of a bounding box and a cell's GeoJSON outline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import h3

from services.catalog import taxonomy
from services.common.geo import (
    DEFAULT_MODEL,
    EARTH_RADIUS_M,
    H3_RESOLUTION,
    TravelModel,
    haversine_m,
    validate_lat_lng,
)

MAX_AREA_CELLS = 5000  # a district-sized map; beyond that use a coarser resolution


def _merchant_types(m: dict[str, Any]) -> set[str]:
    types = {m.get("business_type")}
    types.update(m.get("secondary_types") or ())
    return {t for t in types if isinstance(t, str) and taxonomy.is_known(t)}


def coverage(
    origin_lat: float,
    origin_lng: float,
    merchants: Iterable[dict[str, Any]],
    model: TravelModel = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Coverage of every taxonomy type around the origin.

    Returns {"origin", "types": [per type, taxonomy order], "missing": [codes, basic first,
    then quality, each in taxonomy order], "summary": {category: {"covered", "total"}},
    "skipped_merchants": count without a usable location}.  Each type entry carries the
    taxonomy fields plus "covered" and "nearest" ({merchant_id, name, walk_minutes,
    distance_m} of the nearest merchant of that type at any distance, or None).
    Merchants with unknown types are ignored for those types; ties keep input order.
    """
    origin_lat, origin_lng = validate_lat_lng(origin_lat, origin_lng)
    nearest: dict[str, tuple[float, dict[str, Any]]] = {}
    skipped = 0
    for m in merchants:
        try:
            loc = m["location"]
            lat, lng = validate_lat_lng(loc["lat"], loc["lng"])
        except (KeyError, TypeError, ValueError):
            # One bad record should not break a planner's report; it is counted instead.
            skipped += 1
            continue
        dist = haversine_m(origin_lat, origin_lng, lat, lng)
        for code in _merchant_types(m):
            if code not in nearest or dist < nearest[code][0]:
                nearest[code] = (dist, m)

    types: list[dict[str, Any]] = []
    summary = {c: {"covered": 0, "total": 0} for c in taxonomy.CATEGORIES}
    for t in taxonomy.BUSINESS_TYPES:
        entry = dict(t)
        best = nearest.get(t["code"])
        if best is None:
            entry["covered"], entry["nearest"] = False, None
        else:
            dist, m = best
            walk = model.minutes_for(dist)
            entry["covered"] = walk <= t["target_walk_minutes"]
            entry["nearest"] = {
                "merchant_id": m.get("_id"),
                "name": m.get("name"),
                "walk_minutes": walk,
                "distance_m": dist,
            }
        summary[t["category"]]["total"] += 1
        summary[t["category"]]["covered"] += entry["covered"]
        types.append(entry)

    order = {c: i for i, c in enumerate(taxonomy.CATEGORIES)}
    # sorted() is stable, so within a category taxonomy order is kept.
    missing = [
        e["code"]
        for e in sorted((e for e in types if not e["covered"]), key=lambda e: order[e["category"]])
    ]
    return {
        "origin": {"lat": origin_lat, "lng": origin_lng},
        "types": types,
        "missing": missing,
        "summary": summary,
        "skipped_merchants": skipped,
    }


def cells_for_bbox(
    south: float,
    west: float,
    north: float,
    east: float,
    res: int = H3_RESOLUTION,
    max_cells: int = MAX_AREA_CELLS,
) -> list[str]:
    """H3 cells whose centres lie in the box (h3 polygon_to_cells semantics), sorted.

    A box smaller than a cell yields the cell containing its centre.  Boxes crossing the
    antimeridian are not supported.  ValueError if the result would exceed max_cells.
    """
    south, west = validate_lat_lng(south, west)
    north, east = validate_lat_lng(north, east)
    if not (south < north and west < east):
        raise ValueError("bbox must satisfy south < north and west < east")
    # Cheap size estimate first so a huge box fails fast instead of allocating millions of ids.
    mid = math.radians((south + north) / 2)
    approx_area = (
        math.radians(north - south) * math.radians(east - west) * math.cos(mid) * EARTH_RADIUS_M**2
    )
    if approx_area / h3.average_hexagon_area(res, "m^2") > 1.2 * max_cells:
        raise ValueError(f"bbox too large: more than {max_cells} cells at res {res}")
    poly = h3.LatLngPoly([(south, west), (south, east), (north, east), (north, west)])
    cells = h3.polygon_to_cells(poly, res)
    if len(cells) > max_cells:
        raise ValueError(f"bbox too large: {len(cells)} cells at res {res} (max {max_cells})")
    if not cells:
        cells = [h3.latlng_to_cell((south + north) / 2, (west + east) / 2, res)]
    return sorted(cells)


def cell_boundary_geojson(cell: str) -> dict[str, Any]:
    """GeoJSON Polygon of an H3 cell: [lng, lat] positions, closed, counter-clockwise ring."""
    if not isinstance(cell, str) or not h3.is_valid_cell(cell):
        raise ValueError(f"not a valid H3 cell: {cell!r}")
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    # RFC 7946 wants exterior rings counter-clockwise; check with the shoelace sum.
    signed = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))
    if signed < 0:
        ring.reverse()
    ring.append(list(ring[0]))
    return {"type": "Polygon", "coordinates": [ring]}
