"""List scopes: a missing owner means nothing, never no filter."""

from __future__ import annotations

import pytest

from services.common import scopes


@pytest.mark.parametrize("owner", [None, "", 0, {"$ne": None}, ["tec_1"]])
def test_a_missing_or_odd_owner_scopes_to_nothing(owner):
    assert scopes.owned_by("technician_id", owner) is scopes.NOTHING


def test_an_owner_scopes_to_their_documents_and_narrowing_keeps_nothing_nothing():
    assert scopes.owned_by("resident_id", "li") == {"resident_id": "li"}
    assert scopes.narrowed({"resident_id": "li"}, status="open") == {
        "resident_id": "li", "status": "open"}
    assert scopes.narrowed({"resident_id": "li"}, status=None) == {"resident_id": "li"}
    assert scopes.narrowed(scopes.NOTHING, status="open") is scopes.NOTHING
    assert scopes.everything() == {}
