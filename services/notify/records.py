"""Notify's documents and what callers see of them: inbox notifications, channel deliveries
and the messages they carry, preferences, webhooks and community notices. Plain data, no
I/O; the rules they follow are in domain.py. (Notify publishes no events.)"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from services.common.events import new_id
from services.common.geo import TravelModel, cell_for
from services.common.times import iso
from services.notify import domain
from services.notify.routing import Audience
from services.notify.templates import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    catalogue,
    render_all,
    template_for,
)

NOTICE_EVENT_TYPE = "community_notice"
PREFERENCE_FIELDS = ("language", "time_zone", "quiet_hours", "phone", "email")

# ------------------------------------------------------------------ inbox notifications


def inbox_doc(*, notification: str, recipient_id: str, category: str, event_type: str,
              event_id: str, correlation_id: str, urgent: bool,
              texts: dict[str, dict[str, str]], now: datetime, hold_until: datetime | None,
              role_retention: timedelta) -> dict[str, Any]:
    shared = domain.is_role_inbox(recipient_id)
    expire_at = now + role_retention if shared else None
    return {
        "_id": notification,
        "recipient_id": recipient_id,
        "shared": shared,
        "category": category,
        "event_type": event_type,
        "event_id": event_id,
        "correlation_id": correlation_id,
        "urgent": urgent,
        "texts": texts,
        "read": False,
        "read_by": [],
        "created_at": now,
        # Held in quiet hours: invisible (no seq) until released; seq orders what is visible.
        "held": hold_until is not None,
        "release_at": hold_until,
        "seq": None,
        "expire_at": expire_at,
        "expire_day": domain.expire_day(expire_at) if expire_at else None,
    }


def event_notification(event: dict[str, Any], audience: Audience, recipient: str,
                       prefs: dict[str, Any], now: datetime,
                       role_retention: timedelta) -> dict[str, Any]:
    texts = render_all(event["type"], audience.name, event["data"], prefs["time_zone"])
    hold = None if audience.urgent else domain.quiet_until(prefs, now)
    return inbox_doc(
        notification=domain.notification_id(event["id"], recipient), recipient_id=recipient,
        category=audience.category, event_type=event["type"], event_id=event["id"],
        correlation_id=event["correlation_id"], urgent=audience.urgent, texts=texts, now=now,
        hold_until=hold, role_retention=role_retention)


def notice_notification(notice: dict[str, Any], resident_id: str, prefs: dict[str, Any],
                        now: datetime, role_retention: timedelta) -> dict[str, Any]:
    text = {"title": notice["title"], "body": notice["body"]}
    return inbox_doc(
        notification=domain.notification_id(notice["_id"], resident_id),
        recipient_id=resident_id, category="notices", event_type=NOTICE_EVENT_TYPE,
        event_id=notice["_id"], correlation_id=notice["_id"], urgent=False,
        texts={lang: text for lang in LANGUAGES}, now=now,
        hold_until=domain.quiet_until(prefs, now), role_retention=role_retention)


def public_notification(doc: dict[str, Any], reader: str, language: str) -> dict[str, Any]:
    text = doc["texts"].get(language) or doc["texts"][DEFAULT_LANGUAGE]
    read = reader in doc.get("read_by", []) if doc.get("shared") else doc["read"]
    return {
        "id": doc["_id"],
        "category": doc["category"],
        "event_type": doc["event_type"],
        "correlation_id": doc["correlation_id"],
        "title": text["title"],
        "body": text["body"],
        "urgent": doc.get("urgent", False),
        "shared": bool(doc.get("shared")),
        "read": read,
        "created_at": iso(doc["created_at"]),
        "seq": doc["seq"],
    }


# ------------------------------------------------------------------ channel deliveries


def message_for(doc: dict[str, Any], language: str, delivery: str) -> dict[str, Any]:
    """What a channel sends: the notification in the recipient's language."""
    text = doc["texts"].get(language) or doc["texts"][DEFAULT_LANGUAGE]
    return {
        "id": delivery,
        "notification_id": doc["_id"],
        "event_type": doc["event_type"],
        "category": doc["category"],
        "correlation_id": doc["correlation_id"],
        "urgent": doc["urgent"],
        "language": language,
        "title": text["title"],
        "body": text["body"],
        "created_at": iso(doc["created_at"]),
    }


def deliveries_for(doc: dict[str, Any], prefs: dict[str, Any], webhooks: list[dict[str, Any]],
                   now: datetime) -> list[dict[str, Any]]:
    """The channel deliveries beyond the inbox that a person's preferences ask for.

    Quiet hours hold SMS and e-mail with the inbox; webhooks go to systems, not sleeping
    people, so they are sent at once.
    """
    if doc["shared"]:
        return []  # a role inbox has no phone or address of its own
    wanted = domain.channels_for(prefs, doc["category"])
    targets: list[tuple[str, str, dict[str, Any], datetime]] = []
    hold = doc["release_at"] or now
    if "sms" in wanted and prefs.get("phone"):
        targets.append(("sms", prefs["phone"], {"phone": prefs["phone"]}, hold))
    if "email" in wanted and prefs.get("email"):
        targets.append(("email", prefs["email"], {"email": prefs["email"]}, hold))
    if "webhook" in wanted:
        for hook in webhooks:
            targets.append(("webhook", hook["_id"], {"webhook_id": hook["_id"]}, now))
    out = []
    for channel, key, to, due in targets:
        ident = domain.delivery_id(doc["_id"], channel, key)
        out.append({
            "_id": ident,
            "notification_id": doc["_id"],
            "recipient_id": doc["recipient_id"],
            "channel": channel,
            "to": to,
            "message": message_for(doc, prefs["language"], ident),
            "status": "pending",
            "attempts": [],
            "attempt_count": 0,
            "next_attempt_at": due,
            "lease_until": None,
            "last_error": None,
            "created_at": now,
            "updated_at": now,
        })
    return out


def public_delivery(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "notification_id": doc["notification_id"],
        "recipient_id": doc["recipient_id"],
        "channel": doc["channel"],
        "status": doc["status"],
        "attempt_count": doc["attempt_count"],
        "attempts": [{**a, "at": iso(a["at"])} for a in doc["attempts"]],
        "next_attempt_at": iso(doc.get("next_attempt_at")),
        "last_error": doc.get("last_error"),
        "created_at": iso(doc["created_at"]),
        "updated_at": iso(doc["updated_at"]),
    }


# ------------------------------------------------------------------ preferences


def preference_changes(who: dict[str, str], data: dict[str, Any], current: dict[str, Any],
                       now: datetime) -> dict[str, Any]:
    """The fields a PUT stores: only those sent; channels merge per category; a home is
    stored with its H3 cell and normalised community (to find it for notices)."""
    fields: dict[str, Any] = {"role": who["role"], "updated_at": now}
    fields.update({key: data[key] for key in PREFERENCE_FIELDS if key in data})
    if "channels" in data:
        fields["channels"] = {**current["channels"], **data["channels"]}
    if "home" in data:
        home = data["home"]
        if home is None:
            fields.update(home=None, home_cell=None, community=None)
        else:
            community = (domain.normalise_community(home["community"])
                         if home.get("community") else None)
            loc = home["location"]
            fields.update(home={"location": loc, "community": community,
                                "address": home.get("address")},
                          home_cell=cell_for(loc["lat"], loc["lng"]), community=community)
    return fields


def public_preferences(prefs: dict[str, Any]) -> dict[str, Any]:
    return {k: prefs[k] for k in ("language", "time_zone", "channels", "quiet_hours",
                                  "phone", "email", "home")}


# ------------------------------------------------------------------ webhooks


def new_webhook(owner_id: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"_id": new_id("whk"), "owner_id": owner_id, "url": data["url"],
            "description": data.get("description"), "secret": secrets.token_urlsafe(32),
            "created_at": now}


def public_webhook(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc["_id"], "url": doc["url"], "description": doc.get("description"),
            "created_at": iso(doc["created_at"])}


# ------------------------------------------------------------------ community notices


def stored_audience(audience: dict[str, Any], model: TravelModel) -> dict[str, Any]:
    """A validated audience as a notice stores it: a walk (with its radius) or communities."""
    if audience.get("near"):
        near = audience["near"]
        return {"kind": "walk", "location": near["location"],
                "walk_minutes": near["walk_minutes"],
                "radius_m": model.max_distance_m(near["walk_minutes"])}
    return {"kind": "communities",
            "communities": sorted({domain.normalise_community(c)
                                   for c in audience["communities"]})}


def new_notice(author: dict[str, str], data: dict[str, Any], model: TravelModel,
               now: datetime) -> dict[str, Any]:
    return {
        "_id": new_id("ntc"),
        "title": data["title"],
        "body": data["body"],
        "audience": stored_audience(data["audience"], model),
        "expires_at": data.get("expires_at"),
        "created_by": author["sub"],
        "created_at": now,
        "recipients": 0,
    }


def public_notice(doc: dict[str, Any]) -> dict[str, Any]:
    audience = doc["audience"]
    out_audience: dict[str, Any]
    if audience["kind"] == "walk":
        out_audience = {"near": {"location": audience["location"],
                                 "walk_minutes": audience["walk_minutes"]}}
    else:
        out_audience = {"communities": audience["communities"]}
    return {
        "id": doc["_id"],
        "title": doc["title"],
        "body": doc["body"],
        "audience": out_audience,
        "expires_at": iso(doc.get("expires_at")),
        "created_by": doc["created_by"],
        "created_at": iso(doc["created_at"]),
        "recipients": doc["recipients"],
    }


# ------------------------------------------------------------------ feedback (意见反馈)

FEEDBACK_EVENT_TYPES = {"answered": "feedback_answered", "closed": "feedback_closed"}


def new_feedback(resident_id: str, community: str, data: dict[str, Any],
                 now: datetime) -> dict[str, Any]:
    return {
        "_id": new_id("fbk"),
        "resident_id": resident_id,
        "community": community,
        "kind": data["kind"],
        "subject": {"type": data["subject_type"], "id": data.get("subject_id")},
        "text": data["text"],
        "photo_url": data.get("photo_url"),
        "status": "open",
        "answers": [],
        "created_at": now,
        "updated_at": now,
    }


def feedback_answer(who: str, text: str | None, status: str, now: datetime) -> dict[str, Any]:
    return {"by": who, "text": text, "status": status, "at": now}


def public_feedback(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"], "resident_id": doc["resident_id"], "community": doc["community"],
        "kind": doc["kind"], "subject": doc["subject"], "text": doc["text"],
        "photo_url": doc["photo_url"], "status": doc["status"],
        "answers": [{**a, "at": iso(a["at"])} for a in doc["answers"]],
        "created_at": iso(doc["created_at"]), "updated_at": iso(doc["updated_at"]),
    }


def feedback_notification(doc: dict[str, Any], answer: dict[str, Any], prefs: dict[str, Any],
                          now: datetime, role_retention: timedelta) -> dict[str, Any]:
    """The resident's inbox message for a planner's answer or close, in every language."""
    event_type = FEEDBACK_EVENT_TYPES[answer["status"]]
    values = {"feedback_no": doc["_id"].rsplit("_", 1)[-1][-8:].upper(),
              "community": doc["community"]}
    texts = {}
    for lang in LANGUAGES:
        template = template_for(event_type, "resident", lang)
        values["answer_text"] = answer["text"] or catalogue(lang)["_fallbacks"]["comment"]
        texts[lang] = {part: text.format_map(values) for part, text in template.items()}
    key = f"{doc['_id']}|{len(doc['answers'])}"  # one message per answer, even if retried
    return inbox_doc(
        notification=domain.notification_id(key, doc["resident_id"]),
        recipient_id=doc["resident_id"], category="notices", event_type=event_type,
        event_id=key, correlation_id=doc["_id"], urgent=False, texts=texts, now=now,
        hold_until=domain.quiet_until(prefs, now), role_retention=role_retention)
