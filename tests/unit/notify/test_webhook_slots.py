"""The webhooks-per-account limit holds across notify replicas: each webhook takes a
numbered slot under a unique index, so two registrations racing for the last slot cannot
both win, whatever each counted before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.store import open_database
from services.notify.storage.webhooks import Webhooks


@pytest.fixture
def collection(tmp_path):
    database = open_database("notify", "", str(tmp_path))
    yield database.db["webhooks"]
    database.close()


def hook(n: int) -> dict:
    return {"_id": f"whk_{n}", "owner_id": "shop", "url": f"https://h{n}.example.com",
            "secret": "s" * 32, "created_at": datetime.now(UTC)}


def test_two_replicas_racing_for_the_last_slot_register_one_webhook(collection):
    a, b = Webhooks(collection), Webhooks(collection)
    a.ensure_indexes()
    assert a.add_within(hook(1), 2)
    seen_before = b._slots_of("shop")  # both replicas looked before either inserted
    b._slots_of = lambda owner: seen_before
    a._slots_of = lambda owner: seen_before
    assert [a.add_within(hook(2), 2), b.add_within(hook(3), 2)] == [True, False]
    assert collection.count_documents({"owner_id": "shop"}) == 2


def test_webhooks_stored_before_slots_existed_get_one_each_at_start_up(collection):
    collection.insert_many([hook(1), hook(2)])
    webhooks = Webhooks(collection)
    webhooks.ensure_indexes()
    assert sorted(d["slot"] for d in collection.find({})) == [0, 1]
    assert not webhooks.add_within(hook(3), 2)
    webhooks.delete("shop", "whk_1")
    assert webhooks.add_within(hook(3), 2)  # a deleted webhook frees its slot
