"""Where a webhook may point, and the one address a delivery connects to.

A webhook must never become a way into our own network (SSRF). So the host is normalised the
way resolvers and HTTP clients read it — a trailing dot dropped (``localhost.``), IPv4 in any
form ``inet_aton`` accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``,
``127.000.000.001``) turned into a dotted quad — and every address must be public. IPv6
ranges that carry an IPv4 address inside (IPv4-mapped and -compatible, NAT64, 6to4, Teredo)
are refused outright: what they reach depends on a gateway we cannot see.

At delivery the name is resolved once, every answer checked, and the connection made to the
checked address (the name still goes in the Host header and TLS SNI): a DNS answer that
changes between the check and the connection (rebinding) cannot reach an internal address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

EMBEDDING_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "::ffff:0:0/96",  # IPv4-mapped
    "::/96",  # IPv4-compatible (deprecated), also :: and ::1
    "64:ff9b::/96",  # NAT64, well-known prefix
    "64:ff9b:1::/48",  # NAT64, local use
    "2002::/16",  # 6to4
    "2001::/32",  # Teredo
))
NAMES_OF_OUR_OWN = ("localhost", ".localhost", ".local", ".internal", ".lan", ".home.arpa")


class AddressRefused(ValueError):
    """The webhook's address is not one we may connect to."""


@dataclass(frozen=True)
class Target:
    """A checked webhook address: connect to ``ip``, say ``host`` (Host header, SNI)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def normalise_host(host: str) -> str:
    """Lower case, no trailing dot, IPv4 literals as a dotted quad; a name stays a name."""
    host = host.strip().lower().rstrip(".")
    if not host:
        raise AddressRefused("the webhook has no host")
    if ":" in host:  # IPv6 (urlsplit has removed the brackets)
        return host
    if all(c in "0123456789abcdefx." for c in host):
        try:  # the forms resolvers accept: decimal, hex, octal, short, zero-padded
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            pass
    return host


def literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def refuse_internal(address: Address) -> None:
    if address.version == 6 and any(address in net for net in EMBEDDING_IPV4):
        raise AddressRefused("webhooks may not use an IPv6 address that embeds an IPv4 one")
    if not address.is_global or address.is_multicast:
        raise AddressRefused("webhooks must point at a public address")


def parse(url: str, insecure_hosts: set[str]) -> tuple[str, str, int, str]:
    """(scheme, normalised host, port, path with query) of an acceptable webhook URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"not a valid URL: {exc}") from None
    if not parts.hostname:
        raise AddressRefused("the webhook has no host")
    host = normalise_host(parts.hostname)
    allowed_insecure = host in insecure_hosts and parts.scheme in ("http", "https")
    if parts.scheme != "https" and not allowed_insecure:
        raise AddressRefused("webhooks must use https://")
    if not allowed_insecure:
        if host == "localhost" or host.endswith(NAMES_OF_OUR_OWN):
            raise AddressRefused("webhooks must point at a public host")
        address = literal(host)
        if address is not None:
            refuse_internal(address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc}") from None
    return [info[4][0] for info in infos]


def resolve_target(url: str, insecure_hosts: set[str],
                   resolver: Resolver = system_resolver) -> Target:
    """Check the URL, resolve its host once, check every answer; the address to connect to.
    Hosts allowed for tests and development skip the public-address rule, not the pinning."""
    scheme, host, port, path = parse(url, insecure_hosts)
    address = literal(host)
    answers = [str(address)] if address is not None else resolver(host, port)
    if not answers:
        raise AddressRefused(f"{host} has no address")
    if host not in insecure_hosts:
        for answer in answers:
            found = literal(answer)
            if found is None:
                raise AddressRefused(f"{host} resolved to something that is not an address")
            refuse_internal(found)
    return Target(scheme, host, port, answers[0].split("%")[0], path)
