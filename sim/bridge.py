"""The simulator's only door into the dispatch code: the real functions, a stand-in store.

The candidate search (`rank_nearby`: H3 cells around the repair, reach pre-filter, the
domain's ranking with ETA, load and rating) reads technicians through one store verb,
`technicians_in(cells, skill)`. SimStore answers it from memory the way DispatchStore's
in-memory index does, so the search is the service's own, without a database.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from services.dispatch import domain, policies
from services.dispatch.service import rank_nearby
from services.dispatch.store import cells_of

SYSTEM = {"id": "system", "role": "system"}
TRAVEL_MODES = domain.TRAVEL_MODES
transition = domain.transition
on_shift = domain.on_shift


class SimStore:
    """Technicians by (search cell, skill) for those available, like DispatchStore's index."""

    def __init__(self, technicians: list[dict[str, Any]]) -> None:
        self.techs = {t["_id"]: t for t in technicians}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        self._available: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)
        for tech in technicians:
            self.refresh(tech)

    def refresh(self, tech: dict[str, Any]) -> None:
        """Re-index a technician after a change of status or place."""
        point = tech.get("location") or tech["home"]
        tech["h3_cell"], tech["search_cell"] = cells_of(point)
        for key in self._keys.pop(tech["_id"], []):
            self._available[key].pop(tech["_id"], None)
        if tech.get("status") == "available":
            keys = [(tech["search_cell"], skill) for skill in tech.get("skills") or []]
            for key in keys:
                self._available[key][tech["_id"]] = None
            self._keys[tech["_id"]] = keys

    def technicians_in(self, search_cells: list[str], skill: str) -> list[dict[str, Any]]:
        return [self.techs[tid] for cell in search_cells
                for tid in self._available.get((cell, skill), ())]


def candidates(store: SimStore, repair: dict[str, Any], now: datetime, max_eta: float
               ) -> list[dict[str, Any]]:
    """The service's ranked candidates for a repair, without those who gave it back."""
    ranked, _, _ = rank_nearby(store, repair, now, max_eta)
    skip = {str(i) for i in repair.get("declined_technician_ids") or []}
    return [c for c in ranked if str(c["technician_id"]) not in skip]


def pick_one(policy: str, ranked: list[dict[str, Any]], max_eta: float
             ) -> dict[str, Any] | None:
    return policies.PICKERS[policy](ranked, (), max_eta)
