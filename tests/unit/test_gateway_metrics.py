"""The gateway's /metrics counts requests by route (not by id) and status, times them, and
counts what it sheds: 429 for a user over their rate, 503 when a service cannot answer."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from services.common.auth import TokenSettings, issue_token
from services.gateway.app import create_app
from services.gateway.errors import ApiError
from services.gateway.settings import GatewaySettings


def gateway():
    tokens = TokenSettings(secret="x" * 40, public_key=None, algorithm="HS256",
                           issuer="lifecircle", dev_tokens=False, ttl_seconds=600)
    app = create_app(GatewaySettings(amqp_uri="memory://", rpc_timeout=1, max_in_flight=8,
                                     max_body_bytes=65536, rate_per_second=0.01, rate_burst=1,
                                     tokens=tokens))

    class DownRpc:
        def call(self, service, method, **kwargs):
            raise ApiError(503, "service_unavailable", f"{service} is not answering")

    app.config["RPC"] = DownRpc()
    return app.test_client(), {"Authorization": f"Bearer {issue_token(tokens, 'li', 'resident')}"}


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def count(samples, name, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_and_status_and_shed_requests_by_reason():
    client, headers = gateway()
    before = scrape(client)
    assert client.get("/api/v1/orders", headers=headers).status_code == 503
    assert client.get("/api/v1/orders", headers=headers).status_code == 429
    assert client.get("/api/v1/orders/ord_" + "a" * 32).status_code in (401, 404)
    after = scrape(client)

    for status in ("503", "429"):
        labels = {"method": "GET", "route": "/api/v1/orders", "status": status}
        assert (count(after, "lifecircle_http_requests_total", **labels)
                == count(before, "lifecircle_http_requests_total", **labels) + 1)
        assert (count(after, "lifecircle_http_shed_total", status=status)
                == count(before, "lifecircle_http_shed_total", status=status) + 1)
    # One label per route, whatever the id in the path.
    routes = {dict(labels)["route"] for name, labels in after
              if name == "lifecircle_http_requests_total"}
    assert not any("ord_" in route for route in routes)
    timed = {"method": "GET", "route": "/api/v1/orders"}
    assert (count(after, "lifecircle_http_request_seconds_count", **timed)
            == count(before, "lifecircle_http_request_seconds_count", **timed) + 2)
    assert count(after, "lifecircle_http_requests_in_flight") == 1  # the scrape itself
