"""Home deliveries: each order goes to a shop within a 15-minute walk, whose own staff carry it.

A shop is a small queue: its staff take ready orders first come, first served, walk to the
door at the services' walking pace and detour (services/common/geo.py) and walk back. The
candidate shops come from the same H3 cell search and walking filter as the catalog's
"near me" (geo.candidate_cells, geo.within).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import h3

from services.common import geo
from sim.city import City
from sim.demand import Order

WALK_MINUTES = 15.0
HANDOVER_MINUTES = 1.0


@dataclass(frozen=True)
class Delivery:
    order: int
    shop: int | None  # None: no shop within a 15-minute walk, so no delivery
    walk_minutes: float
    door_to_door_minutes: float | None


def deliver(city: City, orders: list[Order]) -> list[Delivery]:
    by_cell: dict[str, list[int]] = defaultdict(list)
    for k, (lat, lng) in enumerate(city.shops):
        by_cell[geo.cell_for(lat, lng)].append(k)
    reach_m = geo.DEFAULT_MODEL.max_distance_m(WALK_MINUTES)

    @cache
    def cells_near(cell: str) -> tuple[str, ...]:
        # Cover the whole home cell: its centre's disk widened by the cell's own radius.
        lat, lng = h3.cell_to_latlng(cell)
        radius = max(geo.haversine_m(lat, lng, *v) for v in h3.cell_to_boundary(cell))
        return tuple(geo.candidate_cells(lat, lng, reach_m + radius))

    queue: dict[int, list[float]] = {}  # shop -> staff free-at minutes (a heap)
    out = []
    for order in sorted(orders, key=lambda o: o.created_s):
        shops = [{"k": k, "lat": float(city.shops[k][0]), "lng": float(city.shops[k][1])}
                 for c in cells_near(order.cell) for k in by_cell.get(c, ())]
        near = geo.within(order.lat, order.lng, shops, WALK_MINUTES)
        if not near:
            out.append(Delivery(order.n, None, 0.0, None))
            continue
        shop, _, walk = near[min(int(order.pick * len(near)), len(near) - 1)]
        k = shop["k"]
        staff = queue.setdefault(k, [0.0] * city.shop_staff[k])
        ready = order.created_s / 60 + order.prep_min
        free = heapq.heappop(staff)
        start = max(ready, free)
        delivered = start + walk
        heapq.heappush(staff, delivered + HANDOVER_MINUTES + walk)
        out.append(Delivery(order.n, k, walk, delivered - order.created_s / 60))
    return out
