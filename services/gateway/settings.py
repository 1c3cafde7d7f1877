"""Gateway settings, read through services.common.config (keys and defaults live there)."""

from __future__ import annotations

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
        return cls(
            amqp_uri=setting(None, "AMQP_URI"),
            rpc_timeout=setting(None, "GATEWAY_RPC_TIMEOUT"),
            max_in_flight=setting(None, "GATEWAY_MAX_IN_FLIGHT"),
            max_body_bytes=setting(None, "GATEWAY_MAX_BODY_BYTES"),
            rate_per_second=setting(None, "GATEWAY_RATE_PER_SECOND"),
            rate_burst=setting(None, "GATEWAY_RATE_BURST"),
            tokens=TokenSettings.from_env(),
            read_cache_seconds=setting(None, "GATEWAY_READ_CACHE_SECONDS"),
            order_backlog_seconds=setting(None, "GATEWAY_ORDER_BACKLOG_SECONDS"),
        )
