"""Message texts per event type, audience and language, kept as data in templates/<lang>.json.

Rendering uses ``str.format_map`` over the event data plus derived values (order number,
items, total in yuan, skill name, technician name, ETA, due time in the reader's time zone).
A placeholder with no value — a missing template, a misspelt field, or a field that is None
with no fallback — raises TemplateError: a blank or half-filled message is never sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
TEMPLATE_DIR = Path(__file__).with_name("templates")


class TemplateError(Exception):
    """A message could not be rendered completely."""


@cache
def catalogue(language: str) -> dict[str, Any]:
    if language not in LANGUAGES:
        raise TemplateError(f"no templates for language {language!r}")
    with open(TEMPLATE_DIR / f"{language}.json", encoding="utf-8") as fh:
        return json.load(fh)


def template_for(event_type: str, audience: str, language: str) -> dict[str, str]:
    try:
        entry = catalogue(language)[event_type][audience]
        return {"title": entry["title"], "body": entry["body"]}
    except KeyError:
        raise TemplateError(
            f"no {language} template for {event_type!r} to {audience!r}") from None


def _short(identifier: str) -> str:
    """A readable order/repair number: the last 8 characters of the id, upper case."""
    return identifier.rsplit("_", 1)[-1][-8:].upper()


def _local_time(iso: str, tz: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%H:%M")


def values_for(data: dict[str, Any], language: str, tz: str) -> dict[str, Any]:
    """Event data (None values removed) plus derived, language-specific values."""
    cat = catalogue(language)
    fallback, fmt = cat["_fallbacks"], cat["_formats"]
    values = {k: v for k, v in data.items() if v is not None}

    def text(name: str, value: Any, shaped: str | None = None) -> None:
        values[f"{name}_text"] = fallback[name] if value is None else (shaped or value)

    if "order_id" in data:
        values["order_no"] = _short(data["order_id"])
        items = data.get("items") or []
        values["items_text"] = fmt["items"].format(
            count=len(items), quantity=sum(i["quantity"] for i in items))
        text("merchant_name", data.get("merchant_name"))
        total = data.get("total_fen")
        text("total", total,
             None if total is None else fmt["total"].format(yuan=f"{total / 100:.2f}"))
    if "repair_id" in data:
        values["repair_no"] = _short(data["repair_id"])
        values["skill_name"] = cat["_skills"].get(data["skill"], data["skill"])
        values["due_time"] = _local_time(data["due_by"], tz)
        text("technician_name", data.get("technician_name"))
        eta = data.get("eta_minutes")
        text("eta", eta, None if eta is None else fmt["eta"].format(minutes=max(1, round(eta))))
        rating = data.get("rating")
        text("rating", rating, None if rating is None else fmt["rating"].format(stars=rating))
        text("comment", data.get("comment"))
    if "receipt_code" in data:
        values["total_yuan"] = f"{data['total_fen'] / 100:.2f}"
    if "reason" in data:
        text("reason", data.get("reason"))
    return values


def _fill(template: str, values: dict[str, Any]) -> str:
    for _, field, _, _ in Formatter().parse(template):
        if field is not None and field not in values:
            raise KeyError(field)
    return template.format_map(values)


def render(event_type: str, audience: str, data: dict[str, Any], language: str,
           tz: str) -> dict[str, str]:
    """{"title", "body"} for one audience of an event, in one language."""
    template = template_for(event_type, audience, language)
    values = values_for(data, language, tz)
    try:
        return {part: _fill(text, values) for part, text in template.items()}
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(
            f"{language} template for {event_type!r} to {audience!r} needs {exc}") from None


def render_all(event_type: str, audience: str, data: dict[str, Any],
               tz: str) -> dict[str, dict[str, str]]:
    """The message in every language: the reader's language is picked when it is read."""
    return {lang: render(event_type, audience, data, lang, tz) for lang in LANGUAGES}
