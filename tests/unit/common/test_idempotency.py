"""Idempotency keys belong to their subject: stored apart, under one compound unique index,
and migrated at start-up from the old joined form."""

from __future__ import annotations

import pytest
from pymongo.errors import DuplicateKeyError

from services.common import idempotency
from services.common.store import open_database
from services.orders.store import OrdersStore


@pytest.fixture
def db(tmp_path):
    database = open_database("orders", "", str(tmp_path))
    yield database.db
    database.close()


def test_subject_a_key_b_colon_k_and_subject_a_colon_b_key_k_are_two_keys(db):
    idempotency.ensure_key_index(db["orders"], "resident_id")
    db["orders"].insert_one({"_id": 1, **idempotency.key_fields("a", "b:K")})
    db["orders"].insert_one({"_id": 2, **idempotency.key_fields("a:b", "K")})
    with pytest.raises(DuplicateKeyError):
        db["orders"].insert_one({"_id": 3, **idempotency.key_fields("a", "b:K")})
    assert db["orders"].find_one(idempotency.key_fields("a:b", "K"))["_id"] == 2


def test_documents_with_the_old_joined_key_are_migrated_once_at_start_up(db):
    orders = db["orders"]
    orders.create_index("idempotency_key", unique=True)  # the old index
    orders.insert_one({"_id": 1, "resident_id": "a", "idempotency_key": "a:b:K"})
    orders.insert_one({"_id": 2, "resident_id": "a:b", "idempotency_key": "a:b:K2"})
    OrdersStore(db).ensure_indexes()
    store = OrdersStore(db)
    assert store.by_idempotency_key("a", "b:K")["_id"] == 1
    assert store.by_idempotency_key("a:b", "K2")["_id"] == 2
    assert store.by_idempotency_key("a", "b:K2") is None
    assert "idempotency_key_1" not in orders.index_information()
    assert orders.find_one({"_id": 1}).get("idempotency_key") is None
    # A second start changes nothing, even for a key that itself begins with "<sub>:".
    orders.insert_one({"_id": 3, **idempotency.key_fields("a", "a:x")})
    assert idempotency.ensure_key_index(orders, "resident_id") == 0
    assert store.by_idempotency_key("a", "a:x")["_id"] == 3


def test_a_start_interrupted_midway_finishes_the_migration_next_time(db):
    orders = db["orders"]
    orders.create_index("idempotency_key", unique=True)
    orders.insert_one({"_id": 1, "resident_id": "a", "idempotency_key": "a:K1",
                       **idempotency.key_fields("a", "K1")})  # migrated before the crash
    orders.insert_one({"_id": 2, "resident_id": "a", "idempotency_key": "a:K2"})
    assert idempotency.ensure_key_index(orders, "resident_id") == 1
    assert orders.find_one(idempotency.key_fields("a", "K2"))["_id"] == 2
