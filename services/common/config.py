"""Settings, in one place.

Services get them from the nameko container config (deploy/nameko.yaml fills it from the
environment); the gateway and command-line tools read the environment directly. Every setting
has a default that works on a developer machine.
"""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
    # Empty: embedded store under DATA_DIR. A mongodb:// URL: a real MongoDB.
    "MONGO_URL": "",
    "DATA_DIR": "data",
    "CITY_TZ": "Asia/Shanghai",
    # Orders
    "ORDER_ACCEPT_TIMEOUT_SECONDS": 600,
    "ORDER_TIMER_SECONDS": 5.0,
    # Dispatch (see docs/dispatch.md)
    "DISPATCH_AUTO_ASSIGN": "",  # "" off, "all", or comma-separated skills
    "DISPATCH_ACCEPT_TIMEOUT_SECONDS": 120,
    "DISPATCH_MAX_ETA_MINUTES": 30.0,
    "DISPATCH_TECH_CACHE": True,
    # Events
    "OUTBOX_RELAY_SECONDS": 2.0,
    "OUTBOX_GRACE_SECONDS": 3.0,
    "EVENT_MAX_ATTEMPTS": 5,
    "EVENT_RETRY_BASE_MS": 500,
    # Walking model (see docs/circle.md)
    "WALK_SPEED_M_PER_MIN": 75.0,
    "WALK_DETOUR_FACTOR": 1.3,
    # Web app (see docs/web.md)
    "MAP_TILE_URL": "",  # e.g. https://tiles.example/{z}/{x}/{y}.png; empty: no tile layer
    "WEB_SECRET_KEY": "",  # signs CSRF tokens; empty: derived from LIFECIRCLE_JWT_SECRET
    "WEB_POLL_SECONDS": 5,  # live parts refresh at least this often (the stream is faster)
}

# Environment variable names that differ from the setting name.
ENV_NAMES = {"DATA_DIR": "LIFECIRCLE_DATA_DIR"}


def setting(config: dict | None, key: str) -> Any:
    """A setting from a nameko container config, else the environment, else the default."""
    default = DEFAULTS[key]
    raw: Any = None
    if config is not None and config.get(key) not in (None, ""):
        raw = config[key]
    else:
        raw = os.environ.get(ENV_NAMES.get(key, key)) or None
    if raw is None:
        return default
    if isinstance(default, bool):
        return str(raw).lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def env_config() -> dict[str, Any]:
    """A nameko-style config dict built from the environment (for tools and the gateway)."""
    return {key: setting(None, key) for key in DEFAULTS}
