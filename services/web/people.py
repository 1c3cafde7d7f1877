"""The demo people one can sign in as under `make run` (dev tokens on); from services/demo.py
so the sign-in page offers exactly who the demo data knows."""

from __future__ import annotations

import re

from services import demo
from services.common.auth import ROLES

DEMO_PEOPLE: list[dict[str, str]] = [
    *({"sub": sub, "role": "resident", "name": p["name"]} for sub, p in demo.RESIDENTS.items()),
    *({"sub": m["owner"], "role": "merchant", "name": m["shop"]["name"]}
      for m in demo.MERCHANTS),
    {"sub": "dispatcher-jianghan", "role": "dispatcher", "name": "江汉区调度台"},
    *({"sub": t["sub"], "role": "technician", "name": t["name"]} for t in demo.TECHNICIANS),
    {"sub": "planner-jianghan", "role": "planner", "name": "江汉区规划员"},
    {"sub": demo.MARKET_MANAGER, "role": "market_manager", "name": "民意菜场管理员"},
]

SUB = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")  # as POST /api/v1/auth/dev-token accepts


def may_sign_in_as(sub: str, role: str) -> bool:
    """With dev tokens on, anyone the dev-token API would issue a token for."""
    return role in ROLES and bool(SUB.match(sub))
