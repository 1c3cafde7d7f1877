"""Who hears about which event: every known event type is decided, and recipients are found
in the event data."""

from __future__ import annotations

from services.common.events import known_event_types
from services.notify.routing import ROUTES, SILENT, recipient_of

KNOWN = known_event_types()


def test_every_known_event_type_is_either_routed_or_declared_silent():
    undecided = {t for t, _v in KNOWN} - set(ROUTES) - SILENT
    assert not undecided, f"decide who hears about {sorted(undecided)} (routing.py)"
    assert not set(ROUTES) - {t for t, _v in KNOWN}, "routes for events nobody publishes"


def test_the_technician_is_addressed_by_technician_sub_when_the_contract_carries_it():
    assert recipient_of("technician", {"technician_id": "tec_1"}) == "tec_1"
    assert recipient_of("technician", {"technician_id": "tec_1",
                                       "technician_sub": "tech-li"}) == "tech-li"
