"""The live stream's framing, resume and lifetime, with a fake clock (no waiting)."""

from __future__ import annotations

from services.notify import stream


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _run(fetch, last, lifetime=5.0):
    clock = FakeTime()
    return list(stream.events(fetch, last, lifetime_s=lifetime, poll_s=1.0, heartbeat_s=2.0,
                              monotonic=clock.monotonic, sleep=clock.sleep))


def test_a_new_stream_starts_from_now_and_sends_what_arrives_later_with_its_seq_as_id():
    calls = []

    def fetch(after):
        calls.append(after)
        if after is None:
            return {"cursor": 41, "items": []}
        if len(calls) == 3:
            return {"cursor": 42, "items": [{"seq": 42, "title": "订单已确认"}]}
        return {"cursor": after, "items": []}

    frames = _run(fetch, None)
    assert frames[0].startswith("retry:")
    assert "event: ready" in frames[1] and "id: 41" in frames[1]
    sent = [f for f in frames if "event: notification" in f]
    assert len(sent) == 1 and "id: 42" in sent[0] and "订单已确认" in sent[0]
    assert calls[1] == 41 and calls[-1] == 42  # later polls ask for what is after 42
    assert "event: bye" in frames[-1]


def test_a_reconnect_resumes_after_the_last_event_id():
    asked = []

    def fetch(after):
        asked.append(after)
        return {"cursor": after, "items": []}

    _run(fetch, 17, lifetime=2.0)
    assert asked[0] == 17  # never asked for a fresh cursor


def test_an_idle_stream_sends_heartbeats_and_ends_after_its_lifetime():
    frames = _run(lambda after: {"cursor": after or 0, "items": []}, None, lifetime=10.0)
    assert sum(1 for f in frames if f.startswith(": keep-alive")) >= 4
    assert "event: bye" in frames[-1]


def test_an_unreachable_service_ends_the_stream_with_an_error_event():
    def fetch(after):
        if after is None:
            return {"cursor": 3, "items": []}
        raise RuntimeError("down")

    frames = _run(fetch, None)
    assert "event: error" in frames[-1]


def _gateway(monkeypatch):
    """The real gateway app with a fake notify service behind its RPC client."""
    from services.common.auth import TokenSettings, issue_token
    from services.gateway.app import create_app
    from services.gateway.settings import GatewaySettings

    monkeypatch.setenv("NOTIFY_SSE_LIFETIME_SECONDS", "0")  # read when the app is made

    tokens = TokenSettings(secret="x" * 40, public_key=None, algorithm="HS256",
                           issuer="lifecircle", dev_tokens=False, ttl_seconds=600)
    app = create_app(GatewaySettings(amqp_uri="memory://", rpc_timeout=1, max_in_flight=8,
                                     max_body_bytes=65536, rate_per_second=0, rate_burst=1,
                                     tokens=tokens))

    class FakeRpc:
        def call(self, service, method, **kwargs):
            assert (service, method) == ("notify", "notifications_since")
            return {"cursor": 7, "items": []}

    app.config["RPC"] = FakeRpc()
    def headers(sub="resident-li"):
        return {"Authorization": f"Bearer {issue_token(tokens, sub, 'resident')}",
                "Accept": "text/event-stream"}

    return app, headers


def test_a_worker_serves_a_bounded_number_of_streams_and_refuses_more_with_503(monkeypatch):
    app, headers = _gateway(monkeypatch)
    client = app.test_client()
    limit = app.config["STREAMS"].max_streams
    open_streams = [client.get("/api/v1/notifications/stream", headers=headers(f"r{i}"),
                               buffered=False) for i in range(limit)]
    assert all(r.status_code == 200 for r in open_streams)
    refused = client.get("/api/v1/notifications/stream", headers=headers("one-more"))
    assert refused.status_code == 503 and refused.json["error"]["code"] == "too_many_streams"
    assert refused.headers["Retry-After"]
    for response in open_streams:
        response.close()  # a closed stream gives its slot back
    again = client.get("/api/v1/notifications/stream", headers=headers())
    assert again.status_code == 200
    body = again.get_data(as_text=True)
    assert "event: ready" in body and "id: 7" in body and "event: bye" in body
