"""Settings, in one place: every setting has a key and a default here, and this module is the
only one that reads the environment for a setting.

Services get them from the nameko container config (deploy/nameko.yaml fills it from the
environment); the gateway and command-line tools read the environment through ``setting(None,
KEY)``. Every setting has a default that works on a developer machine. deploy/nameko.yaml and
deploy/env.example list every key once with its meaning (tests/unit/common/test_settings.py
checks that they agree with DEFAULTS).
"""

from __future__ import annotations

import os
from typing import Any

DEFAULTS: dict[str, Any] = {
    "AMQP_URI": "pyamqp://guest:guest@127.0.0.1:5672/",
    # Empty: embedded store under DATA_DIR. A mongodb:// URL: a real MongoDB.
    "MONGO_URL": "",
    # Prefix of the database names on MongoDB (several environments or test runs on one server).
    "MONGO_DB_PREFIX": "",
    "DATA_DIR": "data",
    "CITY_TZ": "Asia/Shanghai",
    # Logs: warning keeps them to what an operator reads; info adds a line per request, RPC
    # and event (make run uses info). Rotated by size by whoever writes the files.
    "LOG_LEVEL": "warning",
    "LOG_MAX_BYTES": 50 * 1024 * 1024,
    "LOG_BACKUPS": 5,
    # Orders
    "ORDER_ACCEPT_TIMEOUT_SECONDS": 600,
    "ORDER_TIMER_SECONDS": 5.0,
    # Payments (see docs/payments.md): "sandbox", or "package.module:Class" for a real one.
    "PAYMENT_PROVIDER": "sandbox",
    "PAYMENT_SANDBOX_SECRET": "sandbox-callback-secret",  # signs the sandbox's callbacks
    "PAYMENT_SANDBOX_AUTOPAY": False,  # the sandbox pays at once instead of when told
    "PAYMENT_CALLBACK_TOLERANCE_SECONDS": 300,  # older (or future) callbacks are refused
    "PAYMENT_TIMER_SECONDS": 5.0,  # how often due refunds are retried
    # A failed refund is asked again after base * 2^(n-1) seconds, capped: never given up.
    "PAYMENT_REFUND_RETRY_BASE_SECONDS": 10.0,
    "PAYMENT_REFUND_RETRY_MAX_SECONDS": 600.0,
    # Dispatch (see docs/dispatch.md)
    "DISPATCH_AUTO_ASSIGN": "",  # "" off, "all", or comma-separated skills
    "DISPATCH_ACCEPT_TIMEOUT_SECONDS": 120,
    "DISPATCH_MAX_ETA_MINUTES": 30.0,
    "DISPATCH_TECH_CACHE": True,
    "DISPATCH_TIMER_SECONDS": 5.0,  # sweep interval (timers read it at start: common/timers.py)
    # How automatic assignment chooses: "ranking" (one repair at a time: ETA, load, rating),
    # "nearest", or "batched" (all open repairs at once, every DISPATCH_BATCH_SECONDS);
    # docs/dispatch.md and docs/simulation.md.
    "DISPATCH_POLICY": "ranking",
    "DISPATCH_BATCH_SECONDS": 30.0,  # the batched policy's interval (30-60 s)
    # Recycling drop-off codes (docs/market.md): how long the code a resident's app shows
    # stays good for a box to post against it.
    "RECYCLING_CODE_TTL_SECONDS": 600,
    # Catalog: one worker per order (or scale post) across replicas, by a lease in the store
    # (services/common/leases.py). A killed holder's lease lapses after this long (a live
    # holder renews it); a handler that finds it held waits this long, then its event comes
    # back later.
    "CATALOG_LEASE_SECONDS": 5.0,
    "CATALOG_LEASE_WAIT_SECONDS": 1.0,
    # Events
    "OUTBOX_RELAY_SECONDS": 2.0,
    "OUTBOX_GRACE_SECONDS": 3.0,
    "EVENT_MAX_ATTEMPTS": 5,
    "EVENT_RETRY_BASE_MS": 500,
    # RabbitMQ (docs/operations.md): quorum queues for a cluster; 0 keeps classic queues.
    "AMQP_QUORUM_QUEUES": True,
    # Unacknowledged messages per consumer; 0: one per nameko worker (max_workers).
    "AMQP_PREFETCH": 0,
    # Port of the service's Prometheus /metrics; 0: none (several services share a host).
    "METRICS_PORT": 0,
    # Walking model (see docs/circle.md)
    "WALK_SPEED_M_PER_MIN": 75.0,
    "WALK_DETOUR_FACTOR": 1.3,
    # Gateway process (services/gateway/gunicorn_conf.py)
    "GATEWAY_BIND": "127.0.0.1:8000",
    "GATEWAY_WORKERS": 2,
    "GATEWAY_THREADS": 8,
    # Gateway requests (services/gateway/settings.py)
    "GATEWAY_RPC_TIMEOUT": 5.0,  # seconds one RPC may take before the request fails
    "GATEWAY_MAX_IN_FLIGHT": 64,  # RPCs in flight per process before answering 503
    "GATEWAY_MAX_BODY_BYTES": 64 * 1024,
    "GATEWAY_RATE_PER_SECOND": 20.0,  # per caller
    "GATEWAY_RATE_BURST": 40,
    # Longest a worker serves a read from memory (0: never); events refresh it sooner
    # (services/gateway/readcache.py)
    "GATEWAY_READ_CACHE_SECONDS": 0.8,  # < 1: a copy is never a second behind
    # New orders get 503 overloaded while orders accepted wait (or a new one would wait)
    # longer than this for the saga's answer (0: never; services/gateway/backlog.py)
    "GATEWAY_ORDER_BACKLOG_SECONDS": 1.0,
    # Bearer tokens (services/common/auth.py): a shared secret (HS256) or an identity
    # provider's public key (RS256/ES256), given inline or as a file.
    "LIFECIRCLE_JWT_SECRET": "",
    "LIFECIRCLE_JWT_PUBLIC_KEY": "",
    "LIFECIRCLE_JWT_PUBLIC_KEY_FILE": "",
    "LIFECIRCLE_JWT_ALGORITHM": "",  # "": RS256 with a public key, else HS256
    "LIFECIRCLE_JWT_ISSUER": "lifecircle",
    "LIFECIRCLE_TOKEN_TTL_SECONDS": 12 * 3600,
    "LIFECIRCLE_DEV_TOKENS": False,  # POST /api/v1/auth/dev-token (never in production)
    # When set, a token's "aud" must name it (an identity provider serving several APIs)
    "LIFECIRCLE_JWT_AUDIENCE": "",
    # Notify (see docs/notifications.md). How often work_due releases, sends and sweeps.
    "NOTIFY_TIMER_SECONDS": 1.0,
    # Channels: "console" logs the message; "package.module:Class" plugs a real provider.
    "NOTIFY_SMS_PROVIDER": "console",
    "NOTIFY_EMAIL_PROVIDER": "console",
    # Webhooks must be https, except to these hosts (comma separated; tests use 127.0.0.1).
    "NOTIFY_WEBHOOK_INSECURE_HOSTS": "",
    "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": 5.0,
    # Webhooks an account may register; webhook sends in flight per notify process, per
    # receiver, and the receiver's circuit breaker: failures in a row, then seconds untried.
    "NOTIFY_WEBHOOKS_PER_ACCOUNT": 5,
    "NOTIFY_WEBHOOK_CONCURRENCY": 20,
    "NOTIFY_WEBHOOK_PER_RECEIVER": 2,
    "NOTIFY_WEBHOOK_BREAKER_FAILURES": 5,
    "NOTIFY_WEBHOOK_BREAKER_SECONDS": 60.0,
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
    # The gateway's live streams, per gateway process (services/gateway/streams.py): at most
    # this many in all (each holds a thread) and per person (a newer one ends their oldest);
    # each ends after its lifetime (the client reconnects), polls and keeps alive at these paces.
    "NOTIFY_SSE_MAX_STREAMS": 4,
    "NOTIFY_SSE_MAX_PER_USER": 2,
    "NOTIFY_SSE_LIFETIME_SECONDS": 55.0,
    "NOTIFY_SSE_POLL_SECONDS": 1.0,
    "NOTIFY_SSE_HEARTBEAT_SECONDS": 15.0,
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
        raw = os.environ.get(env_name(key)) or None
    if raw is None:
        return default
    return coerce(default, raw)


def env_name(key: str) -> str:
    """The environment variable that sets ``key``."""
    return ENV_NAMES.get(key, key)


def coerce(default: Any, raw: Any) -> Any:
    """``raw`` (a string from the environment, or a YAML value) as the type of ``default``."""
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
