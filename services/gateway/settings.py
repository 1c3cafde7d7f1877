"""Gateway settings from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from services.common.auth import TokenSettings
from services.common.config import setting


@dataclass(frozen=True)
class GatewaySettings:
    amqp_uri: str
    rpc_timeout: float
    max_in_flight: int
    max_body_bytes: int
    rate_per_second: float
    rate_burst: int
    tokens: TokenSettings
    read_cache_seconds: float = 0.0  # 0: no read cache (see readcache.py)
    order_backlog_seconds: float = 0.0  # 0: no shedding by the saga's backlog (backlog.py)

    @classmethod
    def from_env(cls) -> GatewaySettings:
        env = os.environ.get
        return cls(
            amqp_uri=setting(None, "AMQP_URI"),
            rpc_timeout=float(env("GATEWAY_RPC_TIMEOUT", "5")),
            max_in_flight=int(env("GATEWAY_MAX_IN_FLIGHT", "64")),
            max_body_bytes=int(env("GATEWAY_MAX_BODY_BYTES", str(64 * 1024))),
            rate_per_second=float(env("GATEWAY_RATE_PER_SECOND", "20")),
            rate_burst=int(env("GATEWAY_RATE_BURST", "40")),
            tokens=TokenSettings.from_env(),
            read_cache_seconds=setting(None, "GATEWAY_READ_CACHE_SECONDS"),
            order_backlog_seconds=setting(None, "GATEWAY_ORDER_BACKLOG_SECONDS"),
        )
