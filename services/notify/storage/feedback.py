"""Feedback to the community, and which communities each planner serves."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument


class Feedback:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("resident_id")
        self.collection.create_index("community")
        self.collection.create_index("subject.id")

    def add(self, doc: dict[str, Any]) -> None:
        self.collection.insert_one(doc)

    def get(self, feedback_id: str) -> dict[str, Any] | None:
        return self.collection.find_one({"_id": feedback_id})

    def page(self, query: dict[str, Any], skip: int, limit: int) -> tuple[list[dict], int]:
        total = self.collection.count_documents(query)
        docs = list(self.collection.find(query).sort("created_at", -1).skip(skip).limit(limit))
        return docs, total

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
