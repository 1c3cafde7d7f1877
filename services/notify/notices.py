"""Community notices: who is in a notice's audience, and which notices cover a place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.events import new_id
from services.common.geo import TravelModel, candidate_cells, haversine_m, within


def normalise_community(name: str) -> str:
    return " ".join(name.split())


def new_notice(author: dict[str, str], data: dict[str, Any], model: TravelModel,
               now: datetime) -> dict[str, Any]:
    audience = data["audience"]
    if audience.get("near"):
        near = audience["near"]
        stored = {"kind": "walk", "location": near["location"],
                  "walk_minutes": near["walk_minutes"],
                  "radius_m": model.max_distance_m(near["walk_minutes"])}
    else:
        stored = {"kind": "communities",
                  "communities": sorted({normalise_community(c) for c in audience["communities"]})}
    return {
        "_id": new_id("ntc"),
        "title": data["title"],
        "body": data["body"],
        "audience": stored,
        "expires_at": data.get("expires_at"),
        "created_by": author["sub"],
        "created_at": now,
        "recipients": 0,
    }


def audience_cells(notice: dict[str, Any]) -> list[str]:
    """H3 cells that can hold a home within the notice's walk (to query by indexed cell)."""
    audience = notice["audience"]
    loc = audience["location"]
    return candidate_cells(loc["lat"], loc["lng"], audience["radius_m"])


def residents_in_walk(notice: dict[str, Any], candidates: list[dict[str, Any]],
                      model: TravelModel) -> list[dict[str, Any]]:
    """Exact filter of candidate homes by the walking model."""
    audience = notice["audience"]
    loc = audience["location"]
    hits = within(loc["lat"], loc["lng"], candidates, audience["walk_minutes"], model,
                  key=lambda p: (p["home"]["location"]["lat"], p["home"]["location"]["lng"]))
    return [p for p, _dist, _walk in hits]


def is_current(notice: dict[str, Any], now: datetime) -> bool:
    expires = notice.get("expires_at")
    return expires is None or expires > now


def covers(notice: dict[str, Any], lat: float | None, lng: float | None,
           community: str | None) -> bool:
    """Does the notice speak to this place (a point in its walk, or its community)?"""
    audience = notice["audience"]
    if audience["kind"] == "walk":
        if lat is None or lng is None:
            return False
        loc = audience["location"]
        return haversine_m(loc["lat"], loc["lng"], lat, lng) <= audience["radius_m"]
    return community is not None and normalise_community(community) in audience["communities"]


def public_notice(doc: dict[str, Any]) -> dict[str, Any]:
    audience = doc["audience"]
    out_audience: dict[str, Any]
    if audience["kind"] == "walk":
        out_audience = {"near": {"location": audience["location"],
                                 "walk_minutes": audience["walk_minutes"]}}
    else:
        out_audience = {"communities": audience["communities"]}
    expires = doc.get("expires_at")
    return {
        "id": doc["_id"],
        "title": doc["title"],
        "body": doc["body"],
        "audience": out_audience,
        "expires_at": expires.isoformat() if expires else None,
        "created_by": doc["created_by"],
        "created_at": doc["created_at"].isoformat(),
        "recipients": doc["recipients"],
    }
