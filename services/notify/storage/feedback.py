"""Feedback to the community, and which communities each planner serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from services.common import paging, windows


class Feedback:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("resident_id")
        self.collection.create_index("community")
        self.collection.create_index("subject.id")
        self.collection.create_index("status")  # the open queue: a bounded set
        for bucket in windows.bucket_fields("created"):
            self.collection.create_index(bucket)

    def add_buckets(self) -> int:
        """Feedback stored before the time buckets existed gets them (a data migration)."""
        return windows.add_missing(self.collection, "created", "created_at")

    def add(self, doc: dict[str, Any]) -> None:
        self.collection.insert_one({**doc, **windows.buckets("created", doc["created_at"])})

    def get(self, feedback_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": feedback_id})

    def page(self, query: dict[str, Any], skip: int, limit: int, now: datetime
             ) -> tuple[list[dict], int, bool]:
        """Newest first: (the page, the total, whether it is capped). A resident's own by
        ``resident_id`` (few); the open queue by status; the rest through
        windows of creation time (services/common/windows.py), a planner's last window all
        of their communities' feedback."""
        if "resident_id" in query:
            rest = {k: v for k, v in query.items() if k != "resident_id"}
            return windows.by_few(self.collection, {"resident_id": query["resident_id"]},
                                  rest, "created_at", skip, limit)
        if query.get("status") == "open":  # waiting for a planner: few, read by status
            return paging.read_capped(self.collection.find(query).sort("created_at", -1),
                                      skip, limit)
        return windows.newest_page(self.collection, query, "created", "created_at", skip,
                                   limit, now, owner_wide="community" in query)

    def move(self, feedback_id: str, from_statuses: frozenset[str], answers_before: int,
             answer: dict[str, Any]) -> dict[str, Any] | None:
        """Append a planner's answer and set its status, only if the status and the number of
        answers are still what the caller saw (a concurrent answer makes this one retry)."""
        return self.collection.find_one_and_update(
            {"_id": feedback_id, "status": {"$in": sorted(from_statuses)},
             "answers": {"$size": answers_before}},
            {"$set": {"status": answer["status"], "updated_at": answer["at"]},
             "$push": {"answers": answer}},
            return_document=ReturnDocument.AFTER)


class Planners:
    """The communities a planner serves, set by an admin (never by the planner)."""

    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        pass  # looked up by _id (the planner's subject) only

    def communities(self, sub: str) -> list[str]:
        doc = self.collection.find_one({"_id": sub})
        return list(doc["communities"]) if doc else []

    def put(self, sub: str, communities: list[str]) -> list[str]:
        self.collection.update_one({"_id": sub}, {"$set": {"communities": communities}},
                                   upsert=True)
        return communities
