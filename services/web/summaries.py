"""Figures a page shows that are sums over what a service returned (no rule of the trade)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# Orders that count as a sale: delivered. Takings are what those orders were charged.
SOLD = ("delivered",)
LOST = ("rejected", "declined", "cancelled")


def today(orders: list[dict[str, Any]], now: datetime, tz: str) -> dict[str, Any]:
    """Today's orders (placed today, city time) and takings (delivered ones' totals)."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date()
    todays = [o for o in orders
              if datetime.fromisoformat(o["created_at"]).astimezone(zone).date() == day]
    return {
        "orders": len([o for o in todays if o["status"] not in LOST]),
        "delivered": len([o for o in todays if o["status"] in SOLD]),
        "takings_fen": sum(o.get("total_fen") or 0 for o in todays if o["status"] in SOLD),
        "list": todays,
    }
