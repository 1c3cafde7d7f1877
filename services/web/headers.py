"""Security headers on every response the gateway sends (pages, assets, API answers)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def content_security_policy(tile_url: str = "") -> str:
    """No inline script anywhere; images also from the tile server when one is configured."""
    images = ["'self'", "data:"]
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        images.append(f"{parts.scheme}://{host}")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {' '.join(images)}",
        "media-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def security_headers(tile_url: str = "") -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(tile_url),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
        "Referrer-Policy": "same-origin",
    }


def apply(response: Any, headers: dict[str, str]) -> Any:
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response
