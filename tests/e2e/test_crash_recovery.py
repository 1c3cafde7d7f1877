"""An accepted order survives `kill -9` of the process that accepted it, and of the one that
was about to answer it; the outbox relay publishes what the crash left behind."""

from __future__ import annotations

import signal
import uuid

import pytest

from tests.conftest import start_system
from tests.e2e.conftest import Shop
from tests.helpers import ApiClient, unique, wait_for


@pytest.fixture(scope="module")
def own_system(amqp_uri, tmp_path_factory):
    # Its own processes: this module kills them.
    running = start_system(amqp_uri, tmp_path_factory.mktemp("crash"))
    yield running
    running.stop_all()


def place(api, who, body):
    r = api.post("/api/v1/orders", as_=who, json=body,
                 headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def status_of(api, who, order_id):
    r = api.get(f"/api/v1/orders/{order_id}", as_=who)
    return r.json()["status"] if r.status_code == 200 else None


def test_an_accepted_order_survives_kill_minus_9_of_the_orders_service(own_system):
    api = ApiClient(own_system.base_url)
    shop = Shop(api, stock=5)
    resident = (unique("resident"), "resident")
    order_id = place(api, resident, shop.order_body(quantity=2))

    own_system.kill("orders", signal.SIGKILL)
    own_system.start("orders")
    own_system.wait_ready()

    assert wait_for(lambda: status_of(api, resident, order_id) == "confirmed",
                    what="the order to be confirmed after the restart")
    assert shop.product()["stock"] == 3


def test_orders_placed_while_the_catalog_is_dead_are_confirmed_after_it_returns(own_system):
    """While the catalog is dead the gateway takes orders until the oldest has waited longer
    than the backlog bound, then refuses new ones with 503 ``overloaded`` (it cannot promise
    an answer); every order it did accept is confirmed once the catalog is back."""
    api = ApiClient(own_system.base_url)
    shop = Shop(api, stock=50)
    resident = (unique("resident"), "resident")
    own_system.kill("catalog", signal.SIGKILL)
    accepted: list[str] = []
    refusals: list[dict] = []

    def try_one() -> bool:
        r = api.post("/api/v1/orders", as_=resident, json=shop.order_body(quantity=1),
                     headers={"Idempotency-Key": str(uuid.uuid4())}, retry_overloaded=False)
        if r.status_code == 202:
            accepted.append(r.json()["id"])
            return False
        assert r.status_code == 503, r.text
        refusals.append(r.json()["error"])
        return True

    assert wait_for(try_one, timeout=30, interval=0.2,
                    what="the gateway to shed orders while the catalog is dead")
    assert accepted, "the first order was accepted (nothing was waiting yet)"
    assert refusals[0]["code"] == "overloaded"
    assert {status_of(api, resident, oid) for oid in accepted} == {"pending"}

    own_system.start("catalog")
    own_system.wait_ready()
    for oid in accepted:
        wait_for(lambda oid=oid: status_of(api, resident, oid) == "confirmed",
                 what=f"{oid} confirmed")
    assert shop.product()["stock"] == 50 - len(accepted)


def test_a_second_process_cannot_open_a_running_services_data(own_system):
    from services.common.store import StoreLockedError, open_database

    with pytest.raises(StoreLockedError, match=r"already open in another process \(pid \d+"):
        open_database("orders", "", str(own_system.data_dir))
