"""The simulator's only door into the dispatch code: the real functions, a stand-in store.

The automatic assigner's pure layer (services/dispatch/assignment.py: `choose` for one repair
at a time, `plan_batch` for the batched policy, both over `rank`, the domain's ranking with
ETA, load, rating and shifts) is called as the service calls it. Its candidate search reads
technicians through one store verb, `technicians_in(cells, skill)`; SimStore answers it from
memory the way DispatchStore's in-memory index does, so the H3 search is the service's own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from services.common.config import DEFAULTS
from services.dispatch import assignment, domain, policies
from services.dispatch.store import cells_of

SYSTEM = assignment.SYSTEM
TZ = DEFAULTS["CITY_TZ"]
TRAVEL_MODES = domain.TRAVEL_MODES
transition = domain.transition
choose = assignment.choose
plan_batch = assignment.plan_batch
nearby_technicians = assignment.nearby_technicians


def policy(rule: str, max_eta_minutes: float, accept_timeout_s: float, batch_s: float
           ) -> domain.Policy:
    """The service's policy object, with automatic assignment on for every skill."""
    policies.check_policy(rule)
    return domain.Policy(tz=TZ, max_eta_minutes=max_eta_minutes,
                         accept_timeout=timedelta(seconds=accept_timeout_s), auto_assign="all",
                         rule=rule, batch_seconds=batch_s)


def on_shift(shifts: dict | None, at: Any) -> bool:
    return domain.on_shift(shifts, at, TZ)


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
