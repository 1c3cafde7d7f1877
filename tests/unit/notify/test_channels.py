"""Webhook addresses: https to the public internet only, so a registered webhook can never be
used to reach the city's own network."""

from __future__ import annotations

import socket

import pytest

from services.notify.channels import check_webhook_url


@pytest.mark.parametrize("url", ["https://hooks.example.com/lifecircle", "https://8.8.8.8/hook"])
def test_a_public_https_webhook_is_accepted(url):
    check_webhook_url(url, set())


@pytest.mark.parametrize("url", [
    "http://hooks.example.com/lifecircle",
    "ftp://hooks.example.com/",
    "https:///no-host",
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://localhost/hook",
    "https://db.internal/hook",
])
def test_webhooks_to_plain_http_or_our_own_network_are_refused(url):
    with pytest.raises(ValueError):
        check_webhook_url(url, set())


def test_a_host_allowed_for_tests_may_use_http():
    check_webhook_url("http://127.0.0.1:8123/hook", {"127.0.0.1"})


def test_at_delivery_a_name_that_resolves_to_our_network_is_refused(monkeypatch):
    # No DNS here: the resolver's answer is what is under test, so it is given.
    answers = {"hooks.example.com": "93.184.215.14", "sneaky.example.com": "10.0.0.5"}
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], 443))])
    check_webhook_url("https://hooks.example.com/x", set(), resolve=True)
    with pytest.raises(ValueError, match="public address"):
        check_webhook_url("https://sneaky.example.com/x", set(), resolve=True)
