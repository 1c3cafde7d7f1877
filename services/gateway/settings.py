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
        )
