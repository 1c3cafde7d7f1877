"""Every known event type renders completely, in every language, for every audience."""

from __future__ import annotations

import pytest
from marshmallow import fields, validate

from services.common.events import contract_for, known_event_types, make_event
from services.notify import templates
from services.notify.routing import ROUTES


def _sample(schema, nulls: bool) -> dict:
    """A value for every field of a contract (None for nullable ones when ``nulls``)."""
    data = {}
    for name, field in schema.fields.items():
        if nulls and field.allow_none:
            data[name] = None
            continue
        data[name] = _value(name, field, nulls)
    return data


def _value(name: str, field, nulls: bool):
    for validator in ([field.validate] if callable(field.validate) else field.validators or []):
        if isinstance(validator, validate.OneOf):
            return list(validator.choices)[-1]
        if isinstance(validator, validate.Range) and validator.min is not None:
            return validator.min + 1 if isinstance(field, fields.Integer) else validator.min
    if isinstance(field, fields.Nested):
        return _sample(field.schema, nulls)
    if isinstance(field, fields.List):
        inner = field.inner
        return [_sample(inner.schema, nulls) if isinstance(inner, fields.Nested)
                else _value(name, inner, nulls)]
    if isinstance(field, fields.Integer):
        return 1234
    if isinstance(field, fields.Float):
        return 7.4
    if isinstance(field, fields.Boolean):
        return True
    if name.endswith("_at") or name.endswith("_by") and name != "by":
        return "2026-11-29T03:00:00+00:00"
    return f"{name}-sample"


def _event(event_type: str, version: int, nulls: bool) -> dict:
    schema = contract_for(event_type, version)()
    return make_event(event_type, _sample(schema, nulls), source="test",
                      correlation_id="cor_" + "0" * 32, version=version)


KNOWN = known_event_types()


@pytest.mark.parametrize("language", templates.LANGUAGES)
@pytest.mark.parametrize("nulls", [False, True], ids=["filled", "nullable-fields-null"])
@pytest.mark.parametrize(("event_type", "version"), KNOWN)
def test_each_event_type_renders_for_each_audience_in_each_language(event_type, version,
                                                                    language, nulls):
    event = _event(event_type, version, nulls)
    for audience in ROUTES.get(event_type, ()):
        message = templates.render(event_type, audience.name, event["data"], language,
                                   "Asia/Shanghai")
        assert message["title"].strip() and message["body"].strip()
        assert "{" not in message["title"] + message["body"]
        assert "None" not in message["title"] + message["body"]


def test_an_order_message_shows_the_order_number_items_and_total_in_yuan():
    event = _event("order_confirmed", 1, nulls=False)
    event["data"].update(order_id="ord_" + "a" * 24 + "1234abcd", total_fen=2590,
                         merchant_name="惠民便利店",
                         items=[{"product_id": "p1", "quantity": 2},
                                {"product_id": "p2", "quantity": 1}])
    zh = templates.render("order_confirmed", "resident", event["data"], "zh-CN", "Asia/Shanghai")
    en = templates.render("order_confirmed", "resident", event["data"], "en", "Asia/Shanghai")
    assert "1234ABCD" in zh["body"] and "25.90 元" in zh["body"] and "惠民便利店" in zh["body"]
    assert "2 种商品共 3 件" in zh["body"]
    assert "¥25.90" in en["body"] and "2 products, 3 pieces" in en["body"]


def test_a_repair_message_names_the_technician_and_the_eta_and_local_due_time():
    event = _event("repair_assigned", 1, nulls=False)
    event["data"].update(technician_name="张师傅", eta_minutes=11.6, skill="plumbing",
                         due_by="2026-11-29T03:15:00+00:00")
    zh = templates.render("repair_assigned", "resident", event["data"], "zh-CN",
                          "Asia/Shanghai")
    assert "张师傅" in zh["body"] and "约 12 分钟" in zh["body"] and "水管疏通" in zh["body"]
    tech = templates.render("repair_assigned", "technician", event["data"], "en",
                            "Asia/Shanghai")
    assert "11:15" in tech["body"]  # 03:15 UTC is 11:15 in Shanghai


def test_a_template_naming_a_missing_field_is_an_error_not_a_blank(monkeypatch):
    broken = {**templates.catalogue("en"),
              "order_accepted": {"resident": {"title": "x", "body": "{no_such_field}"}}}
    monkeypatch.setattr(templates, "catalogue", lambda lang: broken)
    event = _event("order_accepted", 1, nulls=False)
    with pytest.raises(templates.TemplateError, match="no_such_field"):
        templates.render("order_accepted", "resident", event["data"], "en", "UTC")


def test_a_missing_template_is_an_error():
    with pytest.raises(templates.TemplateError):
        templates.template_for("order_accepted", "merchant", "en")
    with pytest.raises(templates.TemplateError):
        templates.template_for("order_accepted", "resident", "fr")
