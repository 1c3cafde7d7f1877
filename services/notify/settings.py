"""Notify settings: the nameko container config, else the environment, else these defaults
(the same rules as services.common.config.setting, for keys only this service reads)."""

from __future__ import annotations

import os
from typing import Any

from services.common.config import DEFAULTS as COMMON_DEFAULTS
from services.common.config import setting as common_setting

DEFAULTS: dict[str, Any] = {
    # Channels: "console" logs the message; a dotted path "module:Class" plugs a real provider.
    "NOTIFY_SMS_PROVIDER": "console",
    "NOTIFY_EMAIL_PROVIDER": "console",
    # Webhooks must be https, except to these hosts (comma separated; tests use 127.0.0.1).
    "NOTIFY_WEBHOOK_INSECURE_HOSTS": "",
    "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": 5.0,
    # Retries of failed deliveries: base * 2^(n-1), capped, times a random 0.5..1 (jitter).
    "NOTIFY_RETRY_BASE_SECONDS": 30.0,
    "NOTIFY_RETRY_MAX_SECONDS": 3600.0,
    "NOTIFY_MAX_ATTEMPTS": 6,
    # A claimed delivery whose sender died is retried after this long.
    "NOTIFY_SEND_LEASE_SECONDS": 60.0,
    # Read notifications are deleted this long after they were read; role-inbox ones (read
    # state per person) this long after they were created.
    "NOTIFY_READ_RETENTION_DAYS": 30,
    "NOTIFY_ROLE_RETENTION_DAYS": 30,
    # Community notices: inboxes filled within the POST; the timer fills the rest per tick.
    "NOTIFY_NOTICE_INLINE": 300,
    "NOTIFY_NOTICE_BATCH": 1000,
}


def setting(config: dict | None, key: str) -> Any:
    if key in COMMON_DEFAULTS:
        return common_setting(config, key)
    default = DEFAULTS[key]
    raw = config.get(key) if config is not None else None
    if raw in (None, ""):
        raw = os.environ.get(key) or None
    if raw is None:
        return default
    if isinstance(default, bool):
        return str(raw).lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw
