"""Who hears about which event, and what they read (zh-CN first; see docs/notifications.md).

A template names its audience (fields of the event data holding person ids) and a title and
body rendered with ``str.format_map`` over the event data plus a few derived values (the total
in yuan). A missing field raises KeyError: a blank message is never sent.
"""

from __future__ import annotations

from typing import Any

# event type -> list of (audience field, category, title, body)
TEMPLATES: dict[str, list[tuple[str, str, str, str]]] = {
    "order_confirmed": [
        ("resident_id", "orders", "订单已确认",
         "{merchant_name} 已收到您的订单，合计 {total_yuan} 元，等待商家接单。"),
        ("merchant_owner_id", "orders", "新订单",
         "您有一笔新订单，合计 {total_yuan} 元，请及时接单。"),
    ],
    "order_rejected": [
        ("resident_id", "orders", "订单未能下单成功", "很抱歉，订单未能成功：{reason}"),
    ],
    "order_accepted": [
        ("resident_id", "orders", "商家已接单", "{merchant_name} 已接单，正在为您备货。"),
    ],
    "order_declined": [
        ("resident_id", "orders", "商家未接单", "{merchant_name} 未能接单：{reason_text}"),
    ],
    "order_out_for_delivery": [
        ("resident_id", "orders", "订单配送中", "{merchant_name} 已出发为您送货。"),
    ],
    "order_delivered": [
        ("resident_id", "orders", "订单已送达",
         "您在 {merchant_name} 的订单已送达，祝您生活愉快。"),
    ],
    "order_cancelled": [
        ("resident_id", "orders", "订单已取消", "您的订单已取消。"),
        ("merchant_owner_id", "orders", "订单被取消", "一笔订单已被顾客取消，库存已退回。"),
    ],
}


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if data.get("total_fen") is not None:
        values["total_yuan"] = f"{data['total_fen'] / 100:.2f}"
    values["reason_text"] = data.get("reason") or "商家暂时无法接单"
    return values


def render(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages an event produces: one per recipient it names."""
    data = event["data"]
    values = _values(data)
    messages = []
    for audience, category, title, body in TEMPLATES.get(event["type"], []):
        recipient = data.get(audience)
        if not recipient:
            continue  # e.g. an order cancelled before any shop confirmed it
        messages.append({
            "recipient_id": recipient,
            "category": category,
            "title": title.format_map(values),
            "body": body.format_map(values),
        })
    return messages
