"""The 15-minute circle queries, as plain functions over the catalog store.

Every query has the same shape, so its cost depends on the merchants near the point and never
on the size of the city:

1. the walk becomes a straight-line radius (TravelModel.max_distance_m);
2. geo.candidate_cells gives the H3 res-9 cells provably covering that radius;
3. one indexed query fetches what is stored in those cells (``{"h3_cell": {"$in": cells}}``);
4. the exact distance and walking time filter the few hundred candidates in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import h3

from services.catalog import coverage as gaps
from services.catalog import domain, search, taxonomy
from services.catalog.store import CatalogStore
from services.common import hours
from services.common.geo import (
    EARTH_RADIUS_M,
    H3_RESOLUTION,
    TravelModel,
    candidate_cells,
    cell_for,
    within,
)
from services.common.paging import page_dict, slice_page

# Coverage looks this far for the nearest merchant of a missing type: twice the longest target
# walk, so a planner sees "the nearest laundry is 22 minutes away" rather than just "missing".
COVERAGE_SEARCH_MINUTES = 30
# Area maps: the answer carries one polygon per cell; beyond this use a coarser resolution.
MAX_AREA_CELLS = 2000
# Area maps fetch the merchants of the whole area at once; this bounds that fetch.
MAX_FETCH_CELLS = 60_000
PAUSE_EVERY = 20


def _location(doc: dict[str, Any]) -> tuple[float, float]:
    return doc["location"]["lat"], doc["location"]["lng"]


def _in_box(lat: float, lng: float, radius_m: float,
            docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cheap first cut: drop candidates outside a lat/lng box around the walking circle (the
    corners of the H3 disk, ~40% of it) before the exact great-circle filter."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.01 + 1e-6
    widest = min(89.9, abs(lat) + dlat)
    dlng = min(360.0, dlat / math.cos(math.radians(widest)))
    if dlng >= 180.0 or abs(lng) + dlng > 180.0:
        return docs  # near a pole or the antimeridian: no shortcut
    out = []
    for doc in docs:
        loc = doc["location"]
        if abs(loc["lat"] - lat) <= dlat and abs(loc["lng"] - lng) <= dlng:
            out.append(doc)
    return out


def _has_type(merchant: dict[str, Any], code: str) -> bool:
    return merchant.get("business_type") == code or code in (merchant.get("secondary_types")
                                                              or ())


def _name_matches(query: str, merchant: dict[str, Any]) -> bool:
    """A shop matches by its name or by the name of one of its business types."""
    if search.score(query, merchant["name"]) > 0:
        return True
    codes = [merchant.get("business_type"), *(merchant.get("secondary_types") or ())]
    for code in codes:
        entry = taxonomy.BY_CODE.get(code)
        if entry and (search.score(query, entry["name_zh"]) > 0
                      or search.score(query, entry["name_en"]) > 0):
            return True
    return False


def _open_now(merchant: dict[str, Any], now: datetime, tz: str) -> bool:
    return hours.is_open(merchant.get("opening_hours"), now, tz)


def near_merchants(store: CatalogStore, args: dict[str, Any], model: TravelModel,
                   now: datetime, tz: str) -> dict[str, Any]:
    """Merchants within ``walk_minutes`` of (lat, lng), nearest first, one page of them.

    args: lat, lng, walk_minutes, business_type (primary or secondary), open_now (only those
    open at ``now`` in time zone ``tz``), q (name or type name), page, page_size.
    """
    lat, lng, minutes = args["lat"], args["lng"], args["walk_minutes"]
    radius = model.max_distance_m(minutes)
    candidates = _in_box(lat, lng, radius,
                         store.merchants_in_cells(candidate_cells(lat, lng, radius)))
    if args.get("business_type"):
        candidates = [m for m in candidates if _has_type(m, args["business_type"])]
    if args.get("q"):
        candidates = [m for m in candidates if _name_matches(args["q"], m)]
    hits = within(lat, lng, candidates, minutes, model, key=_location)
    if args.get("open_now"):
        hits = [h for h in hits if _open_now(h[0], now, tz)]
    items = [
        {
            "id": m["_id"],
            "name": m["name"],
            "business_type": m["business_type"],
            "secondary_types": m.get("secondary_types") or [],
            "location": m["location"],
            "address": m["address"],
            "phone": m.get("phone"),
            "opening_hours": m.get("opening_hours"),
            "distance_m": round(dist, 1),
            "walk_minutes": round(walk, 1),
            "open_now": _open_now(m, now, tz),
        }
        for m, dist, walk in slice_page(hits, args["page"], args["page_size"])
    ]
    return {**page_dict(items, args["page"], args["page_size"], len(hits)),
            "walk_minutes": minutes, "max_distance_m": round(radius, 1)}


def near_products(store: CatalogStore, args: dict[str, Any],
                  model: TravelModel) -> dict[str, Any]:
    """Goods on sale within the walk whose name matches q: most relevant first, then nearest."""
    lat, lng, minutes, query = args["lat"], args["lng"], args["walk_minutes"], args["q"]
    radius = model.max_distance_m(minutes)
    cells = candidate_cells(lat, lng, radius)
    candidates = _in_box(lat, lng, radius,
                         store.products_matching(cells, domain.query_keys(query)))
    hits = [
        {"doc": doc, "distance_m": dist, "walk_minutes": walk}
        for doc, dist, walk in within(lat, lng, candidates, minutes, model, key=_location)
    ]
    ranked = search.rank(query, hits, name_key=lambda h: h["doc"]["name"],
                         distance_key="distance_m")
    page = slice_page(ranked, args["page"], args["page_size"])
    names = store.merchant_names(sorted({h["doc"]["merchant_id"] for h in page}))
    items = []
    for hit in page:
        doc = hit["doc"]
        items.append({
            "id": doc["_id"],
            "name": doc["name"],
            "merchant_id": doc["merchant_id"],
            "merchant_name": names.get(doc["merchant_id"], ""),
            "sale_mode": doc["sale_mode"],
            "price_fen": doc["price_fen"],
            "price_per": doc.get("price_per"),
            "unit": doc["unit"],
            "stock": doc["stock"],
            "origin": doc.get("origin"),
            "relevance": search.score(query, doc["name"]),
            "distance_m": round(hit["distance_m"], 1),
            "walk_minutes": round(hit["walk_minutes"], 1),
        })
    return {**page_dict(items, args["page"], args["page_size"], len(ranked)),
            "walk_minutes": minutes, "max_distance_m": round(radius, 1)}


# --- coverage --------------------------------------------------------------------------------


def _rounded_nearest(entry: dict[str, Any], limit_minutes: float) -> dict[str, Any]:
    nearest = entry["nearest"]
    if nearest is not None and nearest["walk_minutes"] > limit_minutes:
        # Farther than the search radius: a nearer one may exist just outside the fetched cells.
        nearest = None
    elif nearest is not None:
        nearest = {**nearest, "walk_minutes": round(nearest["walk_minutes"], 1),
                   "distance_m": round(nearest["distance_m"], 1)}
    return {**entry, "nearest": nearest}


def coverage_at(store: CatalogStore, lat: float, lng: float,
                model: TravelModel) -> dict[str, Any]:
    """For every business type: covered within its target walk, and the nearest one (within
    COVERAGE_SEARCH_MINUTES); the missing types, basic-guarantee first."""
    radius = model.max_distance_m(COVERAGE_SEARCH_MINUTES)
    merchants = store.merchants_in_cells(candidate_cells(lat, lng, radius))
    result = gaps.coverage(lat, lng, merchants, model)
    result["types"] = [_rounded_nearest(t, COVERAGE_SEARCH_MINUTES) for t in result["types"]]
    result["search_walk_minutes"] = COVERAGE_SEARCH_MINUTES
    return result


def _expanded_box(south: float, west: float, north: float, east: float,
                  margin_m: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(margin_m / EARTH_RADIUS_M)
    widest = max(abs(south), abs(north)) + dlat
    if widest >= 89.0:
        raise ValueError("area maps near the poles are not supported")
    dlng = dlat / math.cos(math.radians(widest))
    return (max(-90.0, south - dlat), max(-180.0, west - dlng),
            min(90.0, north + dlat), min(180.0, east + dlng))


def _area_cells(args: dict[str, Any]) -> tuple[list[str], dict[str, list[int]]]:
    """The map's cells, and for point lists which points fell in each cell."""
    res = args["res"]
    if args.get("points") is not None:
        members: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(args["points"]):
            members[cell_for(p["lat"], p["lng"], res)].append(i)
        return sorted(members), dict(members)
    return gaps.cells_for_bbox(args["south"], args["west"], args["north"], args["east"], res,
                               max_cells=MAX_AREA_CELLS), {}


def _fetch_cells(centres: dict[str, tuple[float, float]], reach_m: float) -> list[str]:
    """Res-9 cells holding every merchant within reach_m of any centre."""
    if len(centres) <= 50:
        cells: set[str] = set()
        for lat, lng in centres.values():
            cells.update(candidate_cells(lat, lng, reach_m))
        return sorted(cells)
    # Many centres: the box around them, widened by the reach plus two res-9 cell widths
    # (a merchant's cell centre may lie up to one edge length outside the reach).
    lats = [c[0] for c in centres.values()]
    lngs = [c[1] for c in centres.values()]
    margin = reach_m + 2 * h3.average_hexagon_edge_length(H3_RESOLUTION, "m") * 1.5
    box = _expanded_box(min(lats), min(lngs), max(lats), max(lngs), margin)
    try:
        return gaps.cells_for_bbox(*box, res=H3_RESOLUTION, max_cells=MAX_FETCH_CELLS)
    except ValueError:
        raise ValueError("this area is too large to map; choose a smaller box") from None


def _no_pause() -> None:
    return None


def coverage_area(store: CatalogStore, args: dict[str, Any], model: TravelModel,
                  pause: Callable[[], None] = _no_pause) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: per H3 cell (res 7-9) of a box or of community points, how
    many basic-guarantee types are covered at the cell's centre.

    The merchants of the whole area are fetched once and bucketed by their res-9 cell; each
    cell centre then looks only at the buckets of its own walking disk.  A big map is seconds
    of CPU: ``pause`` is called every PAUSE_EVERY cells so a cooperative server (the service
    passes eventlet.sleep(0)) keeps answering other requests meanwhile.
    """
    cells, members = _area_cells(args)
    centres = {c: h3.cell_to_latlng(c) for c in cells}
    basic = set(taxonomy.basic_codes())
    longest = max(taxonomy.target_minutes(c) for c in basic)
    reach = model.max_distance_m(longest)
    buckets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in store.merchants_in_cells(_fetch_cells(centres, reach)):
        if m.get("business_type") in basic or basic.intersection(m.get("secondary_types") or ()):
            buckets[cell_for(*_location(m))].append(m)
    features = []
    for i, cell in enumerate(cells):
        if i % PAUSE_EVERY == PAUSE_EVERY - 1:
            pause()
        lat, lng = centres[cell]
        nearby = _in_box(lat, lng, reach, [m for c in candidate_cells(lat, lng, reach)
                                           for m in buckets.get(c, ())])
        report = gaps.coverage(lat, lng, nearby, model)
        missing = [code for code in report["missing"] if code in basic]
        properties: dict[str, Any] = {
            "cell": cell,
            "res": args["res"],
            "centre": {"lat": lat, "lng": lng},
            "basic_covered": report["summary"]["basic"]["covered"],
            "basic_total": report["summary"]["basic"]["total"],
            "basic_missing": missing,
        }
        if members:
            properties["points"] = members[cell]
        features.append({"type": "Feature", "id": cell,
                         "geometry": gaps.cell_boundary_geojson(cell),
                         "properties": properties})
    return {"type": "FeatureCollection", "features": features,
            "properties": {"res": args["res"], "cells": len(features),
                           "basic_types": taxonomy.basic_codes()}}
