"""Registered webhook endpoints, with their signing secrets.

The per-account limit is held by the database, not by counting first: each webhook takes one
of its owner's numbered slots (0 .. limit-1) under a unique index on (owner, slot), so the
insert itself is the guarded write, and two replicas registering at once can never both take
the last free slot."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError


class Webhooks:
    def __init__(self, collection: Any):
        self.collection = collection

    def ensure_indexes(self) -> None:
        self.collection.create_index("owner_id")
        self.collection.create_index([("owner_id", 1), ("created_at", 1)])
        self._number_unslotted()
        self.collection.create_index([("owner_id", 1), ("slot", 1)], unique=True)

    def _number_unslotted(self) -> None:
        # Webhooks registered before slots existed: give each a free slot of its owner.
        for doc in list(self.collection.find({"slot": {"$exists": False}}, {"owner_id": 1})):
            taken = self._slots_of(doc["owner_id"])
            slot = next(n for n in range(len(taken) + 1) if n not in taken)
            self.collection.update_one({"_id": doc["_id"]}, {"$set": {"slot": slot}})

    def _slots_of(self, owner_id: str) -> set[int]:
        return {d["slot"] for d in self.collection.find({"owner_id": owner_id}, {"slot": 1})
                if d.get("slot") is not None}

    def add_within(self, doc: dict[str, Any], per_account: int) -> bool:
        """Store the webhook in a free slot of its owner; False if all ``per_account`` are
        taken."""
        taken = self._slots_of(doc["owner_id"])
        for slot in range(per_account):
            if slot in taken:
                continue
            try:
                self.collection.insert_one({**doc, "slot": slot})
            except DuplicateKeyError:
                continue  # taken a moment ago by another request or replica
            return True
        return False

    def add(self, doc: dict[str, Any]) -> None:
        """Store a webhook outside any limit (tests, tools): the next free slot."""
        self.add_within(doc, len(self._slots_of(doc["owner_id"])) + 1)

    def of_owner(self, owner_id: str) -> list[dict]:
        return list(self.collection.find({"owner_id": owner_id}).sort("created_at", 1))

    def count_of_owner(self, owner_id: str) -> int:
        return self.collection.count_documents({"owner_id": owner_id})

    def get(self, webhook_id: str) -> dict | None:
        return self.collection.find_one({"_id": webhook_id})

    def delete(self, owner_id: str, webhook_id: str) -> bool:
        return self.collection.delete_one({"_id": webhook_id, "owner_id": owner_id}
                                          ).deleted_count == 1
