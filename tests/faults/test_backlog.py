"""Orders arriving twice as fast as the saga can confirm them, for 30 s: the gateway sheds the
excess by the real backlog, so every order it accepted is answered (confirmed or rejected)
within the bound, and the rest are refused at once with 503 ``overloaded`` and Retry-After.

The sustainable rate is measured first on this machine (a burst, and the time the saga takes
to answer all of it), then orders are sent open-loop at twice that rate (single tries, no
retries). When each order is answered is taken from the orders service's own events, heard on
a queue of the test's, so nothing polls the system under load.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid

import pytest

from services.gateway.subscriber import EventSubscriber
from services.launcher import start_private
from tests.e2e.conftest import HOME
from tests.faults.load import API, Client, error_code, fetch_tokens, make_shops, percentile
from tests.helpers import unique, wait_for

BOUND_SECONDS = 5.0  # every accepted order answered within this, POST sent -> answer heard
BACKLOG_SECONDS = 1.0  # the gateway's default: shed while orders wait (or would) longer
OVERLOAD_SECONDS = 30.0
CALIBRATION_ORDERS = 150
SENDERS = 32


@pytest.fixture(scope="module")
def system(own_vhost, tmp_path_factory):
    running = start_private(own_vhost, tmp_path_factory.mktemp("backlog"), {
        "GATEWAY_ORDER_BACKLOG_SECONDS": str(BACKLOG_SECONDS)})
    yield running
    running.stop_all()


class Answers:
    """When each order's answer (confirmed/rejected) was published, as heard by the test."""

    def __init__(self, amqp_uri: str):
        self.at: dict[str, float] = {}
        self.status: dict[str, str] = {}
        self.subscriber = EventSubscriber(amqp_uri, "orders",
                                          ("order_confirmed", "order_rejected"), self._heard)

    def _heard(self, payload: dict) -> None:
        self.at.setdefault(payload["correlation_id"], time.monotonic())
        self.status.setdefault(payload["correlation_id"], payload["type"])

    def __enter__(self) -> Answers:
        self.subscriber.start()
        assert self.subscriber.subscribed.wait(30), "the test's own subscription"
        return self

    def __exit__(self, *_exc) -> None:
        self.subscriber.stop()


Sent = collections.namedtuple("Sent", "at seconds status code retry_after order_id")


def send_orders(base, tokens, residents, product, rate: float, count: int) -> list[Sent]:
    """``count`` single-try POSTs, open loop: the i-th is sent at start + i / rate."""
    sent: list[Sent] = []
    lock = threading.Lock()
    next_slot = iter(range(count))
    start = time.monotonic() + 0.2

    def sender() -> None:
        client = Client(base, tokens, request_timeout=30)
        while True:
            with lock:
                i = next(next_slot, None)
            if i is None:
                return
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing an open-loop sender, not waiting for an event
            who = residents[i % len(residents)]
            began = time.monotonic()
            r = client.once("POST", f"{API}/orders", who, headers={
                "Idempotency-Key": uuid.uuid4().hex}, json={
                "merchant_id": product.merchant_id, "delivery": HOME,
                "items": [{"product_id": product.id, "quantity": 1}]})
            order_id = r.json().get("id") if r.status_code == 202 else None
            with lock:
                sent.append(Sent(began, time.monotonic() - began, r.status_code,
                                 error_code(r), r.headers.get("Retry-After"), order_id))

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent


def wait_answered(answers: Answers, accepted: list[Sent], timeout: float) -> None:
    wait_for(lambda: all(s.order_id in answers.at for s in accepted), timeout=timeout,
             interval=0.2, what="every accepted order answered")


def test_twice_the_sustainable_rate_every_accepted_order_is_answered_within_the_bound(
        system, own_vhost, figures):
    base = system.base_url
    residents = [(unique("resident"), "resident") for _ in range(40)]
    owner = (unique("merchant"), "merchant")
    tokens = fetch_tokens(base, [*residents, owner])
    product = make_shops(Client(base, tokens), [owner], 1, 10 ** 8)[0]

    with Answers(own_vhost) as answers:
        # The sustainable rate: a burst as fast as the gateway takes it; the saga's pace.
        began = time.monotonic()
        burst = send_orders(base, tokens, residents, product, rate=10_000,
                            count=CALIBRATION_ORDERS)
        took = [s for s in burst if s.status == 202]
        wait_answered(answers, took, timeout=300)
        sustainable = len(took) / (max(answers.at[s.order_id] for s in took) - began)

        rate = 2 * sustainable
        sent = send_orders(base, tokens, residents, product, rate=rate,
                           count=int(rate * OVERLOAD_SECONDS))
        accepted = [s for s in sent if s.status == 202]
        wait_answered(answers, accepted, timeout=120)

    waits = [answers.at[s.order_id] - s.at for s in accepted]
    shed = [s for s in sent if s.status == 503]
    kinds = collections.Counter(f"{s.status} {s.code or ''}".strip() for s in sent)
    figures.update({
        "sustainable (orders answered/s)": round(sustainable, 1),
        "offered (orders/s, 30 s)": round(rate, 1),
        "answers": dict(kinds),
        "accepted per s": round(len(accepted) / OVERLOAD_SECONDS, 1),
        "accepted: POST -> answered p50 / p99 / max s": " / ".join(
            f"{percentile(waits, p):.2f}" for p in (50, 99, 100)),
        "shed: 503 answered in p50 / p99 s": " / ".join(
            f"{percentile([s.seconds for s in shed], p):.3f}" for p in (50, 99)),
        "answered as": dict(collections.Counter(answers.status[s.order_id]
                                                for s in accepted)),
    })
    assert set(kinds) <= {"202", "503 overloaded"}, kinds
    assert accepted, kinds
    # The guarantee: every accepted order is answered within the bound. Whether anything had
    # to be refused for that depends on how the burst's estimate compares with what the saga
    # really does on the machine at that moment (on a quiet machine it may keep up with 2x).
    assert max(waits) <= BOUND_SECONDS, figures
    if shed:
        assert all(s.retry_after for s in shed)
        assert percentile([s.seconds for s in shed], 99) < 2.0, "refused without waiting"
