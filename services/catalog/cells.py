"""The catalog's near-me read model: H3 cell -> the merchants in it, kept in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# What a near-me answer and a coverage report need of a merchant (smaller copies per query).
NEAR_FIELDS = {"_id": 1, "name": 1, "business_type": 1, "secondary_types": 1, "location": 1,
               "address": 1, "phone": 1, "opening_hours": 1}

IN_BATCH = 128


class MerchantCells:
    """Near-me read model: H3 cell -> the merchants in it (NEAR_FIELDS), filled per cell from
    the indexed query on first use and kept current by the store's own merchant writes.

    Why: the embedded engine spends ~170 µs per document it returns (BSON decode, mongomock
    filtering, copying), so a 15-minute disk of ~350 merchants cost ~60 ms per query; from
    memory it is a few dict look-ups.  Correct because one catalog process owns the store and
    every merchant write goes through CatalogStore.  On MongoDB (where several catalog
    processes might share one database) cells also expire after ``ttl_seconds``.
    Callers must treat the returned documents as read-only.
    """

    def __init__(self, collection: Any, ttl_seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic, max_cells: int = 500_000):
        self.collection = collection
        self.ttl = ttl_seconds
        self.clock = clock
        self.max_cells = max_cells
        self._cells: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        # Many shops keep the same hours; share one object per distinct schedule.
        self._schedules: dict[str, Any] = {}

    def _compact(self, doc: dict[str, Any]) -> dict[str, Any]:
        hours = doc.get("opening_hours")
        if hours is not None:
            hours = self._schedules.setdefault(repr(hours), hours)
        return {**doc, "opening_hours": hours}

    def _fresh(self, entry: tuple[float, list] | None, now: float) -> bool:
        return entry is not None and (self.ttl is None or now - entry[0] <= self.ttl)

    def get(self, cells: list[str]) -> list[dict[str, Any]]:
        now = self.clock()
        out: list[dict[str, Any]] = []
        missing = []
        for cell in cells:
            entry = self._cells.get(cell)
            if self._fresh(entry, now):
                out.extend(entry[1])
            else:
                missing.append(cell)
        if missing:
            if len(self._cells) + len(missing) > self.max_cells:
                self._cells.clear()  # crude bound on memory; cells refill on demand
            loaded: dict[str, list[dict[str, Any]]] = {cell: [] for cell in missing}
            # Small batches: the embedded engine checks $in by scanning the list per document.
            for start in range(0, len(missing), IN_BATCH):
                batch = missing[start:start + IN_BATCH]
                for doc in self.collection.find({"h3_cell": {"$in": batch}},
                                                {**NEAR_FIELDS, "h3_cell": 1}):
                    loaded[doc["h3_cell"]].append(self._compact(doc))
            for cell, docs in loaded.items():
                self._cells[cell] = (now, docs)
                out.extend(docs)
        return out

    def added(self, doc: dict[str, Any]) -> None:
        """A merchant was just written: keep its cell current (unloaded cells load later)."""
        entry = self._cells.get(doc["h3_cell"])
        if entry is not None:
            compact = self._compact({k: doc.get(k) for k in (*NEAR_FIELDS, "h3_cell")})
            entry[1].append(compact)

    def replaced(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """A merchant was edited (or moved): drop the old copy, keep the new one."""
        entry = self._cells.get(before["h3_cell"])
        if entry is not None:
            entry[1][:] = [m for m in entry[1] if m["_id"] != before["_id"]]
        self.added(after)

    def clear(self) -> None:
        self._cells.clear()
