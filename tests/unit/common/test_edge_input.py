"""Input the services refuse themselves, whatever the gateway let through (issue 10, items 6
and 7): lone surrogates in any text, dates at the ends of the calendar, subjects that spell
something other than a person."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from services.catalog.schemas import MerchantCreateSchema
from services.common.refusals import Forbidden
from services.common.service_base import actor_of
from services.common.text import unencodable_path
from services.dispatch.schemas import RepairCreateSchema, StatsArgs, TechnicianCreateSchema
from services.notify import domain as notify_domain
from services.notify.schemas import NoticeCreateSchema
from services.orders.schemas import OrderCreateSchema

SURROGATE = "\ud800"
PLACE = {"lat": 30.58, "lng": 114.27}


@pytest.mark.parametrize("schema, body, field", [
    (MerchantCreateSchema, {"name": SURROGATE, "business_type": "breakfast",
                            "location": PLACE, "address": "x"}, "name"),
    (OrderCreateSchema, {"merchant_id": "mer_" + "0" * 32,
                         "items": [{"product_id": "prd_" + "0" * 32, "quantity": 1}],
                         "delivery": {"address": "街" + SURROGATE, "location": PLACE}},
     "delivery"),
    (RepairCreateSchema, {"skill": "plumbing", "description": SURROGATE, "address": "x",
                          "location": PLACE}, "description"),
    (NoticeCreateSchema, {"title": "停水", "body": "x", "audience": {
        "communities": [SURROGATE]}}, "audience"),
])
def test_every_service_refuses_a_lone_surrogate_in_its_own_schemas(schema, body, field):
    with pytest.raises(ValidationError) as refused:
        schema().load(body)
    assert field in refused.value.messages


def test_the_path_of_text_that_is_not_unicode_is_named():
    assert unencodable_path({"a": [{"b": "ok"}, {"c": "x" + SURROGATE}]}) == "a.1.c"
    assert unencodable_path({SURROGATE: 1}) == "_"
    assert unencodable_path({"a": ["fine", 1, None, 2.5]}) is None


@pytest.mark.parametrize("args", [{"from": "9999-12-25", "to": "9999-12-31"},
                                  {"from": "0001-01-01"}, {"to": "9999-12-31"}])
def test_stats_days_at_the_ends_of_the_calendar_are_refused(args):
    with pytest.raises(ValidationError):
        StatsArgs().load(args)


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+08:00"])
def test_moments_at_the_ends_of_the_calendar_are_refused(moment):
    body = {"skill": "plumbing", "description": "漏水", "address": "x", "location": PLACE,
            "preferred_time": moment}
    with pytest.raises(ValidationError) as refused:
        RepairCreateSchema().load(body)
    assert "preferred_time" in refused.value.messages
    notice = {"title": "停水", "body": "x", "audience": {"communities": ["民意"]},
              "expires_at": moment}
    with pytest.raises(ValidationError):
        NoticeCreateSchema().load(notice)


@pytest.mark.parametrize("sub", ["role:dispatcher", "a:b", "li wei"])
def test_a_subject_that_is_not_a_persons_is_refused_by_every_service(sub):
    with pytest.raises(Forbidden):
        actor_of({"sub": sub, "role": "resident"})
    with pytest.raises(Forbidden):
        notify_domain.inboxes_of({"sub": sub, "role": "resident"})


def test_a_persons_inbox_and_the_role_inbox_never_share_a_name():
    assert notify_domain.inboxes_of({"sub": "li", "role": "resident"}) == ["li"]
    mine, shared = notify_domain.inboxes_of({"sub": "zhou", "role": "dispatcher"})
    assert mine == "zhou" and shared.startswith("role:")
    with pytest.raises(ValidationError):
        TechnicianCreateSchema().load({"sub": "role:dispatcher", "name": "王", "skills": [
            "plumbing"], "home": PLACE})


def test_a_notice_whose_expiry_has_passed_is_refused_with_the_field():
    from datetime import UTC, datetime, timedelta

    from services.common.refusals import InvalidInput

    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        notify_domain.require_unexpired(now - timedelta(seconds=1), now)
    assert "expires_at" in refused.value.details
    notify_domain.require_unexpired(now + timedelta(hours=1), now)
    notify_domain.require_unexpired(None, now)
