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
import json
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter

from services.common.config import setting
from services.common.logs import get_logger
from services.notify import signing
from services.notify.webhook_address import (
    AddressRefused,
    Resolver,
    Target,
    parse,
    resolve_target,
    system_resolver,
)


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


def check_webhook_url(url: str, insecure_hosts: set[str], resolve: bool = False,
                      resolver: Resolver = system_resolver) -> Target | None:
    """https to a public address only, except to hosts explicitly allowed for tests and
    development (webhook_address.py has the rules). With ``resolve`` (at delivery) the name
    is resolved and every answer checked; the checked target is returned."""
    try:
        if resolve:
            return resolve_target(url, insecure_hosts, resolver)
        parse(url, insecure_hosts)
    except AddressRefused as exc:
        raise ValueError(str(exc)) from None
    return None


class PinnedAdapter(HTTPAdapter):
    """A requests transport that connects to the address that was checked, whatever DNS
    answers now; the URL keeps the name, so the Host header and TLS (SNI and the certificate's
    name) are the name's."""

    def __init__(self, target: Target):
        self.target = target
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> Any:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(
            request, verify, cert)
        host_params = {**host_params, "host": self.target.ip}
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": self.target.host,
                           "assert_hostname": self.target.host}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


class Webhook:
    """POSTs the message as JSON, signed (see signing.py). Any non-2xx answer is a failure."""

    name = "webhook"

    def __init__(self, config: dict | None = None, resolver: Resolver = system_resolver):
        self.timeout = setting(config, "NOTIFY_WEBHOOK_TIMEOUT_SECONDS")
        self.insecure_hosts = insecure_hosts(config)
        self.resolver = resolver

    def send(self, to: dict[str, Any], message: dict[str, Any]) -> None:
        try:
            target = resolve_target(to["url"], self.insecure_hosts, self.resolver)
        except AddressRefused as exc:
            raise DeliveryError(str(exc)) from None
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        # The connection is to the address; the name goes in Host (and TLS, see the adapter).
        headers = {**signing.sign(to["secret"], body, message["id"]),
                   "Host": target.host_header}
        url = f"{target.scheme}://{target.host_header}{target.path}"
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment: it would resolve again
            session.mount(f"{target.scheme}://", PinnedAdapter(target))
            try:
                response = session.post(url, data=body, headers=headers,
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
