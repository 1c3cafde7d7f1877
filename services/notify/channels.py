"""Delivery channels behind one interface, chosen by configuration.

The inbox is the notification document itself (always on). The others send a rendered
message to an address and raise DeliveryError when it did not arrive:

    class Channel(Protocol):
        name: str
        def send(self, to: dict, message: dict) -> None: ...

``to`` is the channel's address ({"phone"}, {"email"} or the webhook {"url", "secret"}),
``message`` has id, title, body, category, event_type, correlation_id, language,
created_at. A real SMS or e-mail provider is a class with that ``send``, named in config as
"package.module:ClassName" (NOTIFY_SMS_PROVIDER / NOTIFY_EMAIL_PROVIDER) and built with the
service config; the default "console" provider writes the message to the log.
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import socket
from typing import Any, Protocol
from urllib.parse import urlparse

import requests

from services.common.config import setting
from services.common.logs import get_logger
from services.notify import signing


class DeliveryError(Exception):
    """The message did not arrive; the delivery will be retried."""


class Channel(Protocol):
    name: str

    def send(self, to: dict[str, Any], message: dict[str, Any]) -> None: ...


class ConsoleSms:
    name = "sms"

    def __init__(self, config: dict | None = None):
        self.log = get_logger()

    def send(self, to: dict[str, Any], message: dict[str, Any]) -> None:
        self.log.info("sms", to=to["phone"], text=f"{message['title']}: {message['body']}",
                      message_id=message["id"])


class ConsoleEmail:
    name = "email"

    def __init__(self, config: dict | None = None):
        self.log = get_logger()

    def send(self, to: dict[str, Any], message: dict[str, Any]) -> None:
        self.log.info("email", to=to["email"], subject=message["title"], body=message["body"],
                      message_id=message["id"])


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return not ip.is_global or ip.is_multicast


def check_webhook_url(url: str, insecure_hosts: set[str], resolve: bool = False) -> None:
    """https to a public address only, except to hosts explicitly allowed for tests and
    development. A webhook must never become a way to reach our own network (SSRF): IP
    literals and, when ``resolve`` is set (at delivery time), every address the name
    resolves to must be public."""
    parsed = urlparse(url)
    host = parsed.hostname
    if host and host in insecure_hosts and parsed.scheme in ("http", "https"):
        return
    if parsed.scheme != "https" or not host:
        raise ValueError("webhooks must use https://")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValueError("webhooks must point at a public host")
    try:
        literal = _internal(host)
    except ValueError:
        literal = None  # a name, not an address
    if literal:
        raise ValueError("webhooks must point at a public address")
    if resolve and literal is None:
        try:
            infos = socket.getaddrinfo(host, parsed.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise ValueError(f"cannot resolve {host}: {exc}") from None
        if any(_internal(info[4][0]) for info in infos):
            raise ValueError("webhooks must point at a public address")


class Webhook:
    """POSTs the message as JSON, signed (see signing.py). Any non-2xx answer is a failure."""

    name = "webhook"

    def __init__(self, config: dict | None = None):
        self.timeout = setting(config, "NOTIFY_WEBHOOK_TIMEOUT_SECONDS")
        self.insecure_hosts = insecure_hosts(config)
        self.session = requests.Session()

    def send(self, to: dict[str, Any], message: dict[str, Any]) -> None:
        try:
            check_webhook_url(to["url"], self.insecure_hosts, resolve=True)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        headers = signing.sign(to["secret"], body, message["id"])
        try:
            response = self.session.post(to["url"], data=body, headers=headers,
                                         timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code}")


def insecure_hosts(config: dict | None) -> set[str]:
    raw = setting(config, "NOTIFY_WEBHOOK_INSECURE_HOSTS")
    return {h.strip() for h in str(raw).split(",") if h.strip()}


def _provider(spec: str, console: type, config: dict | None) -> Any:
    if spec == "console":
        return console(config)
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)(config)


def build_channels(config: dict | None) -> dict[str, Channel]:
    return {
        "sms": _provider(setting(config, "NOTIFY_SMS_PROVIDER"), ConsoleSms, config),
        "email": _provider(setting(config, "NOTIFY_EMAIL_PROVIDER"), ConsoleEmail, config),
        "webhook": Webhook(config),
    }
