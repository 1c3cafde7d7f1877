"""The notify database wired together: one storage object per collection (storage/), the
in-memory state one notify process keeps beside them (what the live-stream numbering handed
out, the sweep's last run; the numbers themselves come from a counter document), and the
provider that opens it at start-up: indexes, then the numbering resumes above the highest
stored seq, then the data migrations (migrations.py) run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.common.store import StoreProvider
from services.notify import migrations
from services.notify.schedule import Periodic
from services.notify.sequence import Sequencer
from services.notify.storage.deliveries import Deliveries
from services.notify.storage.feedback import Feedback, Planners
from services.notify.storage.notices import Notices
from services.notify.storage.notifications import Notifications
from services.notify.storage.preferences import Preferences
from services.notify.storage.webhooks import Webhooks

SWEEP_EVERY = timedelta(minutes=1)


class NotifyStore:
    def __init__(self, db: Any):
        self.sequencer = Sequencer(db["counters"])
        self.notifications = Notifications(db["notifications"], self.sequencer)
        self.deliveries = Deliveries(db["deliveries"])
        self.preferences = Preferences(db["preferences"])
        self.webhooks = Webhooks(db["webhooks"])
        self.notices = Notices(db["notices"])
        self.feedback = Feedback(db["feedback"])
        self.planners = Planners(db["planners"])
        self.meta = db["meta"]  # which data migrations are done
        self.sweep = Periodic(SWEEP_EVERY)  # expired notifications and notices

    def ensure_indexes(self) -> None:
        for part in (self.notifications, self.deliveries, self.preferences, self.webhooks,
                     self.notices, self.feedback, self.planners):
            part.ensure_indexes()

    def outbox_collections(self) -> list[Any]:
        return []  # notify publishes no events


class NotifyStoreProvider(StoreProvider):
    def __init__(self) -> None:
        super().__init__(NotifyStore, "notify")

    def setup(self) -> None:
        super().setup()  # opens the database, builds the NotifyStore, ensures its indexes
        self.store.sequencer.start_at(self.store.notifications.top_seq())
        migrations.run_all(self.store, self.store.meta)
