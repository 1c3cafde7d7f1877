"""Store tests on a real MongoDB (``make test-mongo``): skipped unless MONGO_URL is set."""

from __future__ import annotations

import os
import uuid

import pytest

from services.common.store import open_database

MONGO_URL = os.environ.get("MONGO_URL", "")
SKIP_REASON = ("MONGO_URL is not set: `MONGO_URL=mongodb://h1:27017,h2:27017,h3:27017/"
               "?replicaSet=rs0 make test-mongo` runs these store tests and the end-to-end "
               "suite against that MongoDB")


def pytest_collection_modifyitems(config, items):
    if MONGO_URL:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/mongo/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)


@pytest.fixture
def open_store():
    """Opens a service's database under a prefix of its own; dropped afterwards."""
    prefix = f"lifecircle_test_{uuid.uuid4().hex[:8]}_"
    opened = []

    def open_(store_cls, name: str, **kwargs):
        database = open_database(name, MONGO_URL, prefix=prefix)
        opened.append(database)
        store = store_cls(database.db, **kwargs)
        store.ensure_indexes()
        return store

    yield open_
    for database in opened:
        database.db.client.drop_database(database.db.name)
        database.close()
