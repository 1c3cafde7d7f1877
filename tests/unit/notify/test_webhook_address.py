"""Webhook addresses (issue 10, item 9): every spelling of an internal address is refused at
registration and delivery, and a delivery connects to the address that was checked."""

from __future__ import annotations

import http.server
import threading

import pytest

from services.notify.channels import DeliveryError, Webhook, check_webhook_url
from services.notify.webhook_address import normalise_host, resolve_target


@pytest.mark.parametrize("url", [
    "https://localhost./hook",  # a trailing dot is the same name
    "https://LOCALHOST../hook",
    "https://db.internal./hook",
    "https://127.0.0.1./hook",
    "https://2130706433/hook",  # decimal 127.0.0.1
    "https://0x7f000001/hook",  # hex
    "https://0x7f.0.0.1/hook",
    "https://0177.0.0.1/hook",  # octal
    "https://127.000.000.001/hook",  # zero-padded
    "https://127.1/hook",  # short form
    "https://017700000001/hook",
    "https://10.1/hook",
    "https://0/hook",
    "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "https://[::ffff:7f00:1]/hook",
    "https://[::127.0.0.1]/hook",  # IPv4-compatible
    "https://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
    "https://[64:ff9b::808:808]/hook",  # NAT64 of a public address: still refused
    "https://[64:ff9b:1::a00:1]/hook",  # local-use NAT64
    "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "https://[2002:808:808::1]/hook",  # 6to4 of a public address: still refused
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
    "https://[fe80::1%25eth0]/hook",
])
def test_every_spelling_of_an_internal_or_embedding_address_is_refused(url):
    with pytest.raises(ValueError):
        check_webhook_url(url, set())
    with pytest.raises(ValueError):  # and at delivery, with or without a resolver
        check_webhook_url(url, set(), resolve=True, resolver=lambda host, port: ["8.8.8.8"])


@pytest.mark.parametrize("host, normal", [
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"),
    ("127.000.000.001", "127.0.0.1"), ("Hooks.Example.COM.", "hooks.example.com"),
    ("cafe", "cafe"), ("8.8.8.8", "8.8.8.8"),
])
def test_hosts_are_read_the_way_a_resolver_reads_them(host, normal):
    assert normalise_host(host) == normal


@pytest.mark.parametrize("answers", [["10.0.0.5"], ["93.184.215.14", "10.0.0.5"],
                                     ["::ffff:10.0.0.5"], ["64:ff9b::a00:5"], ["fd00::1"]])
def test_at_delivery_any_internal_answer_refuses_the_name(answers):
    with pytest.raises(ValueError, match="public|embeds"):
        check_webhook_url("https://hooks.example.com/x", set(), resolve=True,
                          resolver=lambda host, port: answers)


def test_a_public_name_resolves_to_a_pinned_target():
    target = resolve_target("https://Hooks.Example.com./x?y=1", set(),
                            lambda host, port: ["93.184.215.14", "2606:2800:21f:cb07::1"])
    assert (target.host, target.ip, target.port, target.path) == (
        "hooks.example.com", "93.184.215.14", 443, "/x?y=1")
    assert target.host_header == "hooks.example.com"


class _Receiver(http.server.BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        self.seen.append({"host": self.headers["Host"], "body": self.rfile.read(length)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def receiver():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_delivery_connects_to_the_checked_address_though_dns_then_changes(receiver):
    """DNS rebinding: the first answer is checked, later ones would point elsewhere. The name
    is no real one, so only a connection to the checked address can reach the receiver."""
    asked = []

    def rebinding(host, port):
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["10.9.9.9"]

    hook = Webhook({"NOTIFY_WEBHOOK_INSECURE_HOSTS": "hooks.rebind.test",
                    "NOTIFY_WEBHOOK_TIMEOUT_SECONDS": 5}, resolver=rebinding)
    hook.send({"url": f"http://hooks.rebind.test:{receiver}/in", "secret": "s" * 32},
              {"id": "ntf_1", "title": "t"})
    assert asked == ["hooks.rebind.test"]  # resolved once: the check and the connection
    assert [r["host"] for r in _Receiver.seen] == [f"hooks.rebind.test:{receiver}"]


def test_a_delivery_to_a_name_that_now_resolves_inside_is_not_attempted(receiver):
    hook = Webhook({"NOTIFY_WEBHOOK_TIMEOUT_SECONDS": 5},
                   resolver=lambda host, port: ["127.0.0.1"])
    with pytest.raises(DeliveryError, match="public address"):
        hook.send({"url": f"https://hooks.example.com:{receiver}/in", "secret": "s" * 32},
                  {"id": "ntf_2", "title": "t"})
    assert _Receiver.seen == []

