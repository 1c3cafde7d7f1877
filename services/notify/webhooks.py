"""Webhook endpoints a shop, dispatcher or property-management system registers, over the
store. The signing secret is shown once, in the answer to the registration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.common.refusals import Conflict, InvalidInput, NotFound
from services.notify import records
from services.notify.channels import check_webhook_url
from services.notify.store import NotifyStore


def register(store: NotifyStore, who: dict[str, str], data: dict[str, Any],
             insecure_hosts: set[str], now: datetime, per_account: int) -> dict[str, Any]:
    # Counted, then added: one notify process on one OS thread does both without a switch
    # in between on the embedded store (on MongoDB two racing requests might both pass).
    if store.webhooks.count_of_owner(who["sub"]) >= per_account:
        raise Conflict(f"at most {per_account} webhooks per account; delete one first",
                       {"url": ["too many webhooks"]}, code="too_many_webhooks")
    try:
        check_webhook_url(data["url"], insecure_hosts)
    except ValueError as exc:
        raise InvalidInput("the request has invalid fields", {"url": [str(exc)]}) from None
    doc = records.new_webhook(who["sub"], data, now)
    store.webhooks.add(doc)
    return {**records.public_webhook(doc), "secret": doc["secret"]}


def of_owner(store: NotifyStore, who: dict[str, str]) -> dict[str, Any]:
    return {"items": [records.public_webhook(d) for d in store.webhooks.of_owner(who["sub"])]}


def delete(store: NotifyStore, who: dict[str, str], webhook_id: str) -> dict[str, str]:
    if not store.webhooks.delete(who["sub"], webhook_id):
        raise NotFound("no such webhook")
    return {"deleted": webhook_id}
