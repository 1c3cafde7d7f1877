"""Dead letters: events a handler could not take after its tries, or that broke their
contract. An operator lists them (with the reason) and replays them once the cause is fixed.

    python -m services.common.deadletters list [--limit N]
    python -m services.common.deadletters replay [--id EVENT_ID] [--all]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kombu import Connection, Exchange, Producer

from services.common.config import setting
from services.common.messaging import ATTEMPTS_HEADER, dead_letter_queue


def _describe(message: Any) -> dict[str, Any]:
    headers = message.headers or {}
    payload = message.payload
    return {
        "event_id": payload.get("id") if isinstance(payload, dict) else None,
        "event_type": payload.get("type") if isinstance(payload, dict) else None,
        "correlation_id": payload.get("correlation_id") if isinstance(payload, dict) else None,
        "queue": headers.get("x-original-queue"),
        "service": headers.get("x-service"),
        "error": headers.get("x-error"),
        "attempts": headers.get("x-attempts"),
        "dead_at": headers.get("x-dead-at"),
    }


def list_dead_letters(amqp_uri: str, limit: int = 100) -> list[dict[str, Any]]:
    """Look without taking: every message read is returned to the queue."""
    seen = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = dead_letter_queue(None)(channel)
        queue.declare()
        messages = []
        for _ in range(limit):
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            messages.append(message)
            seen.append(_describe(message))
        for message in messages:
            message.requeue()
        channel.close()
    return seen


def replay(amqp_uri: str, event_id: str | None = None, limit: int = 1000) -> int:
    """Send dead letters back to the queue they came from (all, or one event id)."""
    replayed = 0
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        queue = dead_letter_queue(None)(channel)
        queue.declare()
        producer = Producer(channel, exchange=Exchange(""))
        keep = []
        for _ in range(limit):
            message = queue.get(no_ack=False, accept=["json"])
            if message is None:
                break
            info = _describe(message)
            if event_id is not None and info["event_id"] != event_id or not info["queue"]:
                keep.append(message)
                continue
            headers = {k: v for k, v in (message.headers or {}).items()
                       if not k.startswith("x-") or k == "x-replayed"}
            headers[ATTEMPTS_HEADER] = 0
            headers["x-replayed"] = int((message.headers or {}).get("x-replayed", 0)) + 1
            producer.publish(message.payload, routing_key=info["queue"], headers=headers,
                             serializer="json", delivery_mode=2)
            message.ack()
            replayed += 1
        for message in keep:
            message.requeue()
        channel.close()
    return replayed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="show dead letters with their reasons")
    listing.add_argument("--limit", type=int, default=100)
    again = sub.add_parser("replay", help="send dead letters back to their queues")
    again.add_argument("--id", dest="event_id", help="only this event id")
    again.add_argument("--all", action="store_true", help="every dead letter")
    args = parser.parse_args(argv)
    uri = setting(None, "AMQP_URI")
    if args.command == "list":
        for row in list_dead_letters(uri, args.limit):
            print(json.dumps(row, ensure_ascii=False))
    else:
        if not args.event_id and not args.all:
            sys.exit("say --id EVENT_ID or --all")
        print(f"replayed {replay(uri, args.event_id)}")


if __name__ == "__main__":
    main()
