"""Order rules: who may do what, in which status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.errors import BadRequest, Conflict, Forbidden
from services.orders import domain, records

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
BODY = {"merchant_id": "mer_1", "items": [{"product_id": "prd_1", "quantity": 1}],
        "delivery": {"address": "x", "location": {"lat": 30.5, "lng": 114.2}}, "note": None}
RESIDENT = {"sub": "li", "role": "resident"}
SHOP = {"sub": "canteen", "role": "merchant"}


def order(status="confirmed"):
    doc = records.new_order("li", "key-1", BODY, NOW)
    doc.update(status=status, merchant_owner_id="canteen")
    return doc


@pytest.mark.parametrize("action, start, end", [
    ("accept", "confirmed", "accepted"),
    ("decline", "confirmed", "declined"),
    ("dispatch", "accepted", "out_for_delivery"),
    ("deliver", "out_for_delivery", "delivered"),
])
def test_the_shop_moves_its_order_forward(action, start, end):
    assert domain.check_action(order(start), action, SHOP) == end


@pytest.mark.parametrize("start", ["pending", "confirmed", "accepted"])
def test_a_resident_may_cancel_until_the_order_leaves_the_shop(start):
    assert domain.check_action(order(start), "cancel", RESIDENT) == "cancelled"


@pytest.mark.parametrize("start", ["out_for_delivery", "delivered", "rejected", "cancelled"])
def test_cancelling_too_late_is_a_conflict_naming_the_status(start):
    with pytest.raises(Conflict) as refused:
        domain.check_action(order(start), "cancel", RESIDENT)
    assert refused.value.details == {"status": start}
    assert start in refused.value.message


def test_a_shop_cannot_act_on_another_shops_order():
    with pytest.raises(Forbidden):
        domain.check_action(order(), "accept", {"sub": "other", "role": "merchant"})


def test_a_resident_cannot_accept_their_own_order():
    with pytest.raises(Forbidden):
        domain.check_action(order(), "accept", RESIDENT)


def test_only_the_people_involved_and_admins_can_see_an_order():
    doc = order()
    assert domain.can_see(doc, RESIDENT) and domain.can_see(doc, SHOP)
    assert domain.can_see(doc, {"sub": "ops", "role": "admin"})
    assert not domain.can_see(doc, {"sub": "zhang", "role": "resident"})
    pending = order("pending")
    pending["merchant_owner_id"] = None
    assert not domain.can_see(pending, SHOP)


def test_a_retry_with_the_same_body_is_accepted_and_a_different_body_is_not():
    doc = records.new_order("li", "key-1", BODY, NOW)
    domain.check_replay(doc, dict(BODY))
    with pytest.raises(Conflict) as refused:
        domain.check_replay(doc, {**BODY, "note": "more rice"})
    assert refused.value.error_code == "idempotency_key_reused"


def test_a_status_change_produces_its_event_with_who_and_why():
    fields, event = records.status_change(order(), "declined", NOW, "canteen", "sold out")
    assert fields["status"] == "declined"
    assert event["type"] == "order_declined"
    assert event["data"]["previous_status"] == "confirmed"
    assert (event["data"]["by"], event["data"]["reason"]) == ("canteen", "sold out")


@pytest.mark.parametrize("action", ["confirm", "reject", "expire"])
def test_the_saga_and_timer_moves_are_not_actions_a_person_can_ask_for(action):
    with pytest.raises(BadRequest):
        domain.check_person_action(action)
    with pytest.raises(Forbidden):
        domain.check_action(order("pending" if action != "expire" else "confirmed"), action,
                            RESIDENT)


def test_a_pending_order_is_confirmed_or_rejected_and_nothing_else_waits_on_the_catalog():
    assert domain.TRANSITIONS["confirm"].to_status == "confirmed"
    assert domain.TRANSITIONS["reject"].to_status == "rejected"
    pending_moves = {a for a, move in domain.TRANSITIONS.items()
                     if "pending" in move.allowed_from}
    assert pending_moves == {"confirm", "reject", "cancel"}
    assert domain.PERSON_ACTIONS == {"accept": "merchant", "decline": "merchant",
                                     "dispatch": "merchant", "deliver": "merchant",
                                     "cancel": "resident"}


@pytest.mark.parametrize("actor, scope", [
    ({"sub": "li", "role": "resident"}, {"resident_id": "li"}),
    ({"sub": "canteen", "role": "merchant"}, {"merchant_owner_id": "canteen"}),
    ({"sub": "root", "role": "admin"}, {}),
    ({"sub": "wang", "role": "technician"}, None),
    ({"sub": "zhao", "role": "dispatcher"}, None),
    ({"sub": "qian", "role": "planner"}, None),
])
def test_each_role_lists_only_its_own_orders_and_other_roles_none(actor, scope):
    assert domain.visible_query(actor) == scope


def test_a_merchant_without_a_shop_never_matches_pending_orders_without_an_owner():
    pending = records.new_order("li", "key-1", BODY, NOW)  # merchant_owner_id None
    scope = domain.visible_query({"sub": "newshop", "role": "merchant"}, "pending")
    assert scope == {"merchant_owner_id": "newshop", "status": "pending"}
    assert pending["merchant_owner_id"] not in scope.values()


def test_idempotency_keys_are_stored_as_subject_and_key_apart():
    a = records.new_order("a", "b:K", BODY, NOW)
    b = records.new_order("a:b", "K", BODY, NOW)
    assert (a["idem_sub"], a["idem_key"]) == ("a", "b:K")
    assert (a["idem_sub"], a["idem_key"]) != (b["idem_sub"], b["idem_key"])
