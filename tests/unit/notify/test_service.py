"""The notify service's subscriptions: every routed event type is subscribed, from the
service that publishes it, by a handler named after it."""

from __future__ import annotations

import inspect

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.events import contract_for
from services.common.messaging import ReliableEventHandler
from services.notify.routing import ROUTES
from services.notify.service import NotifyService


def _subscriptions() -> dict[str, tuple[str, str]]:
    """Handler name -> (source service, event type), as nameko will bind them."""
    found = {}
    for name, member in inspect.getmembers(NotifyService):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, ReliableEventHandler):
                found[name] = (entrypoint.source_service, entrypoint.event_type)
    return found


def test_every_routed_event_type_has_exactly_one_handler_named_after_it():
    subscriptions = _subscriptions()
    assert sorted(t for _s, t in subscriptions.values()) == sorted(ROUTES)
    assert all(name == f"on_{t}" for name, (_s, t) in subscriptions.items())


def test_each_subscription_listens_to_the_service_whose_contract_defines_the_event():
    # Contracts live in services/common/contracts/<source>.py: a handler bound to the wrong
    # source would never receive a single event.
    for source, event_type in _subscriptions().values():
        defined_in = next(c.__module__ for c in contract_for(event_type).__mro__
                          if c.__module__.startswith("services.common.contracts."))
        assert defined_in == f"services.common.contracts.{source}", event_type
