"""Registered webhook endpoints, with their signing secrets."""

from __future__ import annotations

from typing import Any


class Webhooks:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("owner_id")
        self.collection.create_index([("owner_id", 1), ("created_at", 1)])

    def add(self, doc: dict[str, Any]) -> None:
        self.collection.insert_one(doc)

    def of_owner(self, owner_id: str) -> list[dict]:
        return list(self.collection.find({"owner_id": owner_id}).sort("created_at", 1))

    def count_of_owner(self, owner_id: str) -> int:
        return self.collection.count_documents({"owner_id": owner_id})

    def get(self, webhook_id: str) -> dict | None:
        return self.collection.find_one({"_id": webhook_id})

    def delete(self, owner_id: str, webhook_id: str) -> bool:
        return self.collection.delete_one({"_id": webhook_id, "owner_id": owner_id}
                                          ).deleted_count == 1
