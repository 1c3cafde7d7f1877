"""Data migrations of the notify database, run explicitly at start-up (see store.py) after
the indexes exist and the numbering has resumed. Each is idempotent: it only touches
documents still in the old shape. Finding those documents reads a whole collection, so each
migration is recorded in ``meta`` once done and not looked for again
(services.common.store.run_once; two replicas starting together may both run one, the second
finds nothing to change)."""

from __future__ import annotations

from typing import Any

from services.common.store import run_once
from services.notify.sequence import Sequencer


def upgrade_first_version(notifications: Any, sequencer: Sequencer) -> int:
    """Notifications stored by the first version (one title/body, no seq) get the fields
    this version reads, numbered oldest first after every stored one."""
    old = list(notifications.find({"texts": {"$exists": False}}).sort("created_at", 1))
    for doc in old:
        text = {"title": doc.get("title", ""), "body": doc.get("body", "")}
        notifications.update_one({"_id": doc["_id"]}, {"$set": {
            "texts": {"zh-CN": text, "en": text}, "shared": False, "urgent": False,
            "read_by": [], "held": False, "release_at": None,
            "seq": sequencer.next_for(None), "expire_at": None, "expire_day": None}})
    if old:
        sequencer.start_at(sequencer.current())  # they existed before this process started
    return len(old)


def run_all(store: Any, meta: Any) -> None:
    steps = {
        "first_version_upgraded": lambda: upgrade_first_version(
            store.notifications.collection, store.sequencer),
        "delivery_buckets_added": store.deliveries.add_buckets,
        "feedback_buckets_added": store.feedback.add_buckets,
    }
    for name, step in steps.items():
        run_once(meta, name, step)
