"""The notify lists cost what they return: an inbox by its key, deliveries and feedback
newest first through windows of time; totals capped at TOTAL_CAP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.paging import TOTAL_CAP
from services.notify.store import NotifyStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(open_store):
    return open_store("notify", NotifyStore)


def ids(docs: list[dict]) -> list[str]:
    return [d["_id"] for d in docs]


def note(n: int, recipient: str = "res-1", held: bool = False, read: bool = False) -> dict:
    return {"_id": f"ntf_{n}", "recipient_id": recipient, "shared": False, "held": held,
            "read": read, "read_by": [], "seq": None if held else n, "created_at": NOW}


def test_an_inbox_pages_its_own_visible_notifications_newest_first(store):
    store.notifications.collection.insert_many(
        [note(n, read=n % 2 == 0) for n in range(1, TOTAL_CAP + 6)]
        + [note(1000, held=True), note(1001, recipient="res-2")])
    docs, total, capped, unread = store.notifications.page(["res-1"], "res-1", 0, 3)
    assert ids(docs) == [f"ntf_{n}" for n in (TOTAL_CAP + 5, TOTAL_CAP + 4, TOTAL_CAP + 3)]
    assert (total, capped) == (TOTAL_CAP, True)
    assert unread == (TOTAL_CAP + 6) // 2
    docs, total, capped, _ = store.notifications.page(["res-2"], "res-2", 0, 20)
    assert (ids(docs), total, capped) == (["ntf_1001"], 1, False)


def delivery(n: int, status: str, at: datetime) -> dict:
    return {"_id": f"dlv_{n}", "notification_id": "n", "recipient_id": "r", "channel": "sms",
            "to": "x", "message": "x", "status": status, "attempts": [], "attempt_count": 0,
            "next_attempt_at": at, "lease_until": None, "last_error": None,
            "created_at": at, "updated_at": at}


def test_sent_deliveries_page_newest_change_first_and_a_retry_moves_one_up(store):
    for n in range(5):
        store.deliveries.add(delivery(n, "sent" if n else "failed",
                                      NOW - timedelta(days=40 * n)))
    docs, total, capped = store.deliveries.page({"status": "sent"}, 1, 2, NOW)
    assert ids(docs) == ["dlv_2", "dlv_3"]
    assert (total, capped) == (4, False)
    store.deliveries.collection.update_one({"_id": "dlv_0"}, {"$set": {"status": "failed"}})
    store.deliveries.retry_failed("dlv_0", NOW)
    docs, total, _ = store.deliveries.page({"status": "pending"}, 0, 20, NOW)
    assert (ids(docs), total) == (["dlv_0"], 1)


def feedback(n: int, at: datetime, resident: str = "res-1", community: str = "c1") -> dict:
    return {"_id": f"fbk_{n}", "resident_id": resident, "community": community,
            "subject": {"type": "community", "id": None}, "status": "open", "answers": [],
            "created_at": at, "updated_at": at}


def test_feedback_lists_a_residents_own_and_a_communitys_newest_first(store):
    for n in range(4):
        store.feedback.add(feedback(n, NOW - timedelta(days=200 * n),
                                    resident="res-1" if n < 3 else "res-2",
                                    community="c1" if n % 2 == 0 else "c2"))
    docs, total, capped = store.feedback.page({"resident_id": "res-1"}, 0, 20, NOW)
    assert (ids(docs), total, capped) == (["fbk_0", "fbk_1", "fbk_2"], 3, False)
    docs, total, _ = store.feedback.page({"community": {"$in": ["c1"]}}, 0, 20, NOW)
    assert (ids(docs), total) == (["fbk_0", "fbk_2"], 2)
    store.feedback.collection.update_one({"_id": "fbk_0"}, {"$set": {"status": "closed"}})
    docs, total, _ = store.feedback.page({"community": {"$in": ["c1"]}, "status": "open"},
                                         0, 20, NOW)
    assert (ids(docs), total) == (["fbk_2"], 1)


def test_deliveries_stored_before_the_buckets_are_listed_after_the_one_time_migration(store):
    from services.notify import migrations

    old = delivery(1, "sent", NOW - timedelta(hours=1))
    store.deliveries.collection.insert_one(old)  # as the previous version stored it
    assert store.deliveries.page({"status": "sent"}, 0, 10, NOW)[0] == []
    migrations.run_all(store, store.meta)
    assert ids(store.deliveries.page({"status": "sent"}, 0, 10, NOW)[0]) == ["dlv_1"]

    # Recorded as done: a later start does not read the collection for old shapes again.
    store.deliveries.collection.insert_one(delivery(2, "sent", NOW))
    migrations.run_all(store, store.meta)
    assert "updated_hour" not in store.deliveries.get("dlv_2")


def test_a_planner_without_communities_gets_an_empty_feedback_page_not_a_query(store):
    from services.notify import feedback as feedback_cases

    store.feedback.add({**feedback(1, NOW, resident="res-1", community="c1"),
                        "kind": "feedback", "text": "the lamp is out", "photo_url": None})
    planner = {"sub": "pln-1", "role": "planner"}
    assert feedback_cases.page(store, planner, {"page": 2, "page_size": 5}, NOW) == {
        "items": [], "page": 2, "page_size": 5, "total": 0, "total_capped": False}
    store.planners.put("pln-1", ["c1"])
    assert [f["id"] for f in feedback_cases.page(store, planner, {}, NOW)["items"]] == ["fbk_1"]


def test_feedback_stored_before_the_buckets_is_listed_after_the_one_time_migration(store):
    from services.notify import migrations

    old = {**feedback(1, NOW - timedelta(days=3)), "status": "closed"}
    store.feedback.collection.insert_one(old)  # as the previous version stored it
    query = {"status": "closed"}  # an admin's list of closed feedback: by time buckets
    assert store.feedback.page(query, 0, 10, NOW)[0] == []
    migrations.run_all(store, store.meta)
    assert ids(store.feedback.page(query, 0, 10, NOW)[0]) == ["fbk_1"]
