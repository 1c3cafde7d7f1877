"""The dispatch database: technicians and repair requests."""

from __future__ import annotations

from typing import Any

from services.common import outbox


class DispatchStore:
    def __init__(self, db: Any):
        self.db = db
        self.repairs = db["repairs"]
        self.technicians = db["technicians"]

    def ensure_indexes(self) -> None:
        self.technicians.create_index("h3_cell")
        self.repairs.create_index("status")
        outbox.ensure_outbox_index(self.repairs)

    def outbox_collections(self) -> list[Any]:
        return [self.repairs]
