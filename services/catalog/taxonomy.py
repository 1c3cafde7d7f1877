"""Business types of the 15-minute convenient life circle (商务部《城市一刻钟便民生活圈建设指南》).

The data lives in business_types.json next to this module and is loaded once at import.

Categories: "basic" (基本保障类, the daily necessities every circle must offer) and "quality"
(品质提升类, the improvement tier).  Walk targets: daily shopping, catering, housekeeping and
repair are needed most often, so they must be within a 10-minute walk; everything else within
15.  elderly_care also covers community canteens (长者食堂) but stays in the "care" group at
15 minutes: it is a care facility first, and the 10-minute catering target is for everyday
eating out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATEGORIES: tuple[str, ...] = ("basic", "quality")
_DATA_FILE = Path(__file__).with_name("business_types.json")
_FIELDS = ("code", "name_zh", "name_en", "category", "group", "target_walk_minutes")


def _load(path: Path = _DATA_FILE) -> list[dict[str, Any]]:
    # Validate at import so a bad edit of the JSON fails loudly at start-up, not mid-request.
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    seen: set[str] = set()
    for i, entry in enumerate(data):
        missing = [k for k in _FIELDS if k not in entry]
        if missing:
            raise ValueError(f"{path.name}[{i}]: missing {', '.join(missing)}")
        if entry["code"] in seen:
            raise ValueError(f"{path.name}[{i}]: duplicate code {entry['code']!r}")
        if entry["category"] not in CATEGORIES:
            raise ValueError(f"{path.name}[{i}]: bad category {entry['category']!r}")
        if entry["target_walk_minutes"] not in (10, 15):
            raise ValueError(f"{path.name}[{i}]: target_walk_minutes must be 10 or 15")
        seen.add(entry["code"])
    return data


BUSINESS_TYPES: list[dict[str, Any]] = _load()
BY_CODE: dict[str, dict[str, Any]] = {t["code"]: t for t in BUSINESS_TYPES}


def is_known(code: str) -> bool:
    return code in BY_CODE


def target_minutes(code: str) -> int:
    """Target walking minutes for a business type; ValueError for unknown codes."""
    try:
        return BY_CODE[code]["target_walk_minutes"]
    except (KeyError, TypeError):
        raise ValueError(f"unknown business type {code!r}") from None


def basic_codes() -> list[str]:
    """Codes of the basic-guarantee types, in taxonomy order."""
    return [t["code"] for t in BUSINESS_TYPES if t["category"] == "basic"]


def quality_codes() -> list[str]:
    """Codes of the quality-improvement types, in taxonomy order."""
    return [t["code"] for t in BUSINESS_TYPES if t["category"] == "quality"]
