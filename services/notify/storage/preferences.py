"""Stored preferences, including residents' homes (by H3 cell and community, for notices)."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument


class Preferences:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("home_cell")
        self.collection.create_index("community")

    def get(self, sub: str) -> dict | None:
        return self.collection.find_one({"_id": sub})

    def put(self, sub: str, fields: dict[str, Any]) -> dict:
        return self.collection.find_one_and_update(
            {"_id": sub}, {"$set": fields}, upsert=True, return_document=ReturnDocument.AFTER)

    def homes_in_cells(self, cells: list[str]) -> list[dict]:
        return list(self.collection.find({"home_cell": {"$in": cells}}))

    def homes_in_communities(self, communities: list[str]) -> list[dict]:
        return list(self.collection.find({"community": {"$in": communities}}))
