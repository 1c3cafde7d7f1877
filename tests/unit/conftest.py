"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

from services.common.store import open_database


@pytest.fixture
def open_store(tmp_path):
    """``open_store("notify", NotifyStore, **kwargs)``: a service's store on a fresh embedded
    database in tmp_path, its indexes ensured; every database opened closes after the test."""
    opened = []

    def open_(service: str, store_class, **kwargs):
        database = open_database(service, "", str(tmp_path))
        opened.append(database)
        store = store_class(database.db, **kwargs)
        store.ensure_indexes()
        return store

    yield open_
    for database in opened:
        database.close()
