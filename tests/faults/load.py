"""Driving a running system the way a well-behaved client does while parts of it fail.

The client contract under test: on a 503, a 429 or a broken connection, send the SAME request
again with the SAME Idempotency-Key until it gets a definite answer. Every request and its
outcome is recorded so a test can check, afterwards, that nothing accepted was lost and
nothing happened twice.
"""

from __future__ import annotations

import collections
import math
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.e2e.conftest import HOME

API = "/api/v1"
RETRY_STATUSES = {429, 502, 503, 504}
FINAL_ORDER_STATUSES = {"confirmed", "rejected", "cancelled", "declined"}
REPAIR_PLACE = {"lat": 30.5803, "lng": 114.2705}


class GaveUp(AssertionError):
    """A request found no definite answer before its deadline."""


@dataclass
class Reply:
    status: int
    body: Any
    attempts: int
    seconds: float


class Client:
    """One HTTP client per driving thread (requests sessions are not shared between threads).

    Tokens are fetched once up front (``tokens``), so a client keeps working while the
    gateway is down and comes back.
    """

    def __init__(self, base_url: str, tokens: dict[tuple[str, str], str],
                 request_timeout: float = 10.0):
        self.base_url = base_url
        self.tokens = tokens
        self.request_timeout = request_timeout
        self.session = requests.Session()
        self.retried = collections.Counter()  # what made us retry: status or error name
        # Every single try: (monotonic start, seconds, status or error name, error code).
        self.tries: list[tuple[float, float, int | str, str | None]] = []

    def once(self, method: str, path: str, who: tuple[str, str] | None = None,
             json: Any = None, headers: dict | None = None,
             timeout: float | None = None) -> requests.Response:
        headers = dict(headers or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.session.request(method, f"{self.base_url}{path}", json=json,
                                    headers=headers, timeout=timeout or self.request_timeout)

    def call(self, method: str, path: str, who: tuple[str, str] | None = None,
             json: Any = None, headers: dict | None = None, give_up_after: float = 90.0
             ) -> Reply:
        """Send until a definite answer (anything but 429/5xx-unavailable/no connection)."""
        started = time.monotonic()
        deadline = started + give_up_after
        attempts = 0
        pause = 0.05
        while True:
            attempts += 1
            began = time.monotonic()
            try:
                response = self.once(method, path, who, json, headers)
            except requests.RequestException as exc:
                self.tries.append((began, time.monotonic() - began, type(exc).__name__, None))
                self.retried[type(exc).__name__] += 1
                self.session.close()  # drop pooled connections to a dead gateway
                self.session = requests.Session()
            else:
                self.tries.append((began, time.monotonic() - began, response.status_code,
                                   error_code(response)))
                if response.status_code not in RETRY_STATUSES:
                    body = response.json() if response.content else None
                    return Reply(response.status_code, body, attempts,
                                 time.monotonic() - started)
                self.retried[response.status_code] += 1
            if time.monotonic() > deadline:
                raise GaveUp(f"{method} {path}: no definite answer after {attempts} tries")
            time.sleep(pause)  # client back-off between retries, not waiting for an outcome
            pause = min(pause * 2, 1.0)


def error_code(response: requests.Response) -> str | None:
    """The error's code if the body has the one error shape, "malformed" if it has not."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
        error = body["error"]
        ok = set(body) == {"error"} and set(error) == {"code", "message", "details"}
        return error["code"] if ok and isinstance(error["details"], dict) else "malformed"
    except (ValueError, KeyError, TypeError):
        return "malformed"


def fetch_tokens(base_url: str, people: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    tokens = {}
    with requests.Session() as session:
        for sub, role in people:
            r = session.post(f"{base_url}{API}/auth/dev-token", json={"sub": sub, "role": role},
                             timeout=10)
            assert r.status_code == 200, r.text
            tokens[(sub, role)] = r.json()["access_token"]
    return tokens


def new_key() -> str:
    return uuid.uuid4().hex


# ----------------------------------------------------------------------------- the world


@dataclass
class Product:
    id: str
    merchant_id: str
    owner: tuple[str, str]
    initial: int


@dataclass
class PlacedOrder:
    key: str
    resident: tuple[str, str]
    product_id: str
    quantity: int
    id: str | None = None
    http_status: int | None = None
    cancel: str | None = None  # None, "cancelled" (200), or the status a 409 reported


@dataclass
class PlacedRepair:
    key: str
    resident: tuple[str, str]
    id: str | None = None
    http_status: int | None = None


@dataclass
class Ledger:
    """Everything the clients did, shared by the driving threads."""

    orders: list[PlacedOrder] = field(default_factory=list)
    repairs: list[PlacedRepair] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: int = 0
    progress: threading.Condition = field(default_factory=threading.Condition)

    def note_accepted(self) -> None:
        with self.progress:
            self.accepted += 1
            self.progress.notify_all()

    def wait_accepted(self, at_least: int, timeout: float) -> bool:
        with self.progress:
            return self.progress.wait_for(lambda: self.accepted >= at_least, timeout)


def make_shops(client: Client, owners: list[tuple[str, str]], products_per_shop: int,
               stock: int) -> list[Product]:
    products = []
    for n, owner in enumerate(owners):
        r = client.call("POST", f"{API}/merchants", owner, json={
            "name": f"便民超市{n}", "business_type": "convenience_store",
            "location": {"lat": 30.5812, "lng": 114.2698}, "address": f"民意街{n}号"})
        assert r.status == 201, r.body
        merchant_id = r.body["id"]
        for p in range(products_per_shop):
            r = client.call("POST", f"{API}/merchants/{merchant_id}/products", owner, json={
                "name": f"商品{n}-{p}", "unit": "件", "price_fen": 100 + p, "stock": stock})
            assert r.status == 201, r.body
            products.append(Product(r.body["id"], merchant_id, owner, stock))
    return products


def quiet_hours_off(client: Client, people: list[tuple[str, str]]) -> None:
    """Notifications held for the night are not in the inbox yet; the checks want them."""
    for who in people:
        r = client.call("PUT", f"{API}/me/notification-preferences", who,
                        json={"quiet_hours": None})
        assert r.status == 200, r.body


def place_order(client: Client, ledger: Ledger, order: PlacedOrder, merchant_id: str,
                give_up_after: float = 90.0) -> None:
    body = {"merchant_id": merchant_id,
            "items": [{"product_id": order.product_id, "quantity": order.quantity}],
            "delivery": HOME}
    with ledger.lock:
        ledger.orders.append(order)
    reply = client.call("POST", f"{API}/orders", order.resident, json=body,
                        headers={"Idempotency-Key": order.key}, give_up_after=give_up_after)
    order.http_status = reply.status
    with ledger.lock:
        ledger.latencies.append(reply.seconds)
    if reply.status == 202:
        order.id = reply.body["id"]
        ledger.note_accepted()
    else:
        with ledger.lock:
            ledger.errors.append(f"order {order.key}: {reply.status} {reply.body}")


def cancel_order(client: Client, ledger: Ledger, order: PlacedOrder) -> None:
    reply = client.call("POST", f"{API}/orders/{order.id}/cancel", order.resident, json={})
    if reply.status == 200:
        order.cancel = "cancelled"
    elif reply.status == 409:
        # Rejected already, or an earlier try of ours went through and its answer was lost.
        order.cancel = reply.body["error"]["details"].get("status", "unknown")
    else:
        with ledger.lock:
            ledger.errors.append(f"cancel {order.id}: {reply.status} {reply.body}")


def request_repair(client: Client, ledger: Ledger, repair: PlacedRepair) -> None:
    with ledger.lock:
        ledger.repairs.append(repair)
    body = {"skill": "plumbing", "description": "water under the sink",
            "address": "民意街12号3单元502", "location": REPAIR_PLACE}
    reply = client.call("POST", f"{API}/repairs", repair.resident, json=body,
                        headers={"Idempotency-Key": repair.key})
    repair.http_status = reply.status
    if reply.status == 201:
        repair.id = reply.body["id"]
    else:
        with ledger.lock:
            ledger.errors.append(f"repair {repair.key}: {reply.status} {reply.body}")


# ----------------------------------------------------------------------------- reading back


def all_pages(client: Client, path: str, who: tuple[str, str]) -> list[dict]:
    items: list[dict] = []
    page = 1
    while True:
        sep = "&" if "?" in path else "?"
        r = client.call("GET", f"{path}{sep}page={page}&page_size=100", who)
        assert r.status == 200, r.body
        items.extend(r.body["items"])
        if len(items) >= r.body["total"] or not r.body["items"]:
            return items
        page += 1


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def kill_hard(system: Any, name: str) -> None:
    """kill -9 the process and everything it started (gunicorn's workers too)."""
    proc = system.procs[name]
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher starts each in its own session
        proc.wait(timeout=30)
