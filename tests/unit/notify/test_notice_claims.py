"""A notice's fan-out is continued by one replica at a time: the batch is claimed with a
lease on the notice, so two timers firing together never fill the same inboxes twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.store import open_database
from services.notify.storage.notices import Notices, lease_until

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


@pytest.fixture
def notices(tmp_path):
    database = open_database("test", "", str(tmp_path))
    yield Notices(database.db["notices"])
    database.close()


def unfinished(notices: Notices, lease: datetime | None = None) -> None:
    notices.add({"_id": "ntc_1", "audience_ids": ["a", "b", "c"], "fanout_done": 1,
                 "fanout_pending": True, "fanout_lease": lease})


def test_of_two_replicas_claiming_the_next_batch_exactly_one_wins(notices):
    unfinished(notices)
    first = notices.claim_fanout("ntc_1", NOW, LEASE)
    assert first is not None and notices.claim_fanout("ntc_1", NOW, LEASE) is None
    assert notices.advance_fanout("ntc_1", 3, True, first["fanout_lease"])
    assert notices.claim_fanout("ntc_1", NOW, LEASE) is None  # finished: nothing to claim


def test_the_posters_lease_keeps_timers_off_until_it_expires(notices):
    unfinished(notices, lease_until(NOW, LEASE))
    assert notices.claim_fanout("ntc_1", NOW + timedelta(seconds=1), LEASE) is None
    late = notices.claim_fanout("ntc_1", NOW + LEASE, LEASE)  # the poster died
    assert late is not None
    # The poster's late report does not overwrite the new holder's progress.
    assert not notices.advance_fanout("ntc_1", 2, False, lease_until(NOW, LEASE))
    assert notices.advance_fanout("ntc_1", 3, True, late["fanout_lease"])
