"""The one way a form shows field errors: the API's own schemas (and the service's refusals)
produce ``{"dotted.field": [messages]}``; the ``field`` macro in templates/macros.html shows
each list next to its field, translated.

    errors = {}
    if request.method == "POST":
        with forms.field_errors(errors):
            body = forms.load(schemas.SomethingSchema(), payload)
            call("svc", "method", actor=actor(), thing=body)
            return redirect(...)
    return render_template(..., errors=errors), 422 if errors else 200
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from marshmallow import Schema, ValidationError

from services.common.refusals import InvalidInput

FORM = "_form"  # errors that belong to no single field


def flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages -> {"delivery.address": ["..."], "_form": [...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = FORM if key == "_schema" else str(key)
            for field, texts in flatten(value, f"{prefix}{name}.").items():
                out.setdefault(field, []).extend(texts)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, str):
                out.setdefault(prefix.rstrip(".") or FORM, []).append(item)
            else:
                for field, texts in flatten(item, prefix).items():
                    out.setdefault(field, []).extend(texts)
    else:
        out.setdefault(prefix.rstrip(".") or FORM, []).append(str(messages))
    # "items.0.quantity" and "delivery._form" read better as their parent field
    return {key.replace("._form", ""): value for key, value in out.items()}


def load(schema: Schema, payload: Mapping[str, Any]) -> Any:
    """Validate at the edge with the same schema the API uses."""
    return schema.load(payload)


@contextmanager
def field_errors(errors: dict[str, list[str]]) -> Iterator[dict[str, list[str]]]:
    """Collect a schema's or a service's field errors into ``errors`` instead of raising."""
    try:
        yield errors
    except ValidationError as exc:
        errors.update(flatten(exc.messages))
    except InvalidInput as exc:
        errors.update(flatten(exc.details) if exc.details else {FORM: [exc.message]})


def text(form: Mapping[str, str], name: str) -> str | None:
    """A text box: trimmed, empty as None (so the schema says 'required' where it is)."""
    value = (form.get(name) or "").strip()
    return value or None


def number(form: Mapping[str, str], name: str) -> Any:
    """A number box: an int when it reads as one, else the raw text for the schema to refuse
    with its own message (never a 500)."""
    raw = (form.get(name) or "").strip()
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


def location(form: Mapping[str, str], name: str) -> dict[str, Any]:
    """A map point's two number boxes, ``{name}.lat`` and ``{name}.lng``, as the schemas'
    ``{"lat": .., "lng": ..}``."""
    return {"lat": number(form, f"{name}.lat"), "lng": number(form, f"{name}.lng")}


def yuan_to_fen(form: Mapping[str, str], name: str) -> Any:
    """A price typed in 元 ('12.5') as integer fen, exactly (no float arithmetic)."""
    raw = (form.get(name) or "").strip()
    if raw == "":
        return None
    whole, _, frac = raw.partition(".")
    if not (whole.isdigit() or whole == "") or not (frac.isdigit() or frac == "") \
            or len(frac) > 2 or raw == ".":
        return raw  # the schema refuses it: "Not a valid integer."
    return int(whole or "0") * 100 + int((frac + "00")[:2])


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
