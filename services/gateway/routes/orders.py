"""Home-delivery orders."""

from __future__ import annotations

from flask import current_app, g

from services.gateway.api import ApiBlueprint, IdempotencyHeaderSchema
from services.gateway.rpc import service
from services.gateway.security import BEARER, actor, requires
from services.orders import domain, schemas

blp = ApiBlueprint("orders", __name__, url_prefix="/api/v1/orders", description="Orders")

rpc = service("orders")


@blp.route("", methods=["POST"])
@requires("resident", admin=False)  # orders are placed by the person who will receive them
@blp.doc(security=BEARER)
@blp.arguments(IdempotencyHeaderSchema, location="headers")
@blp.arguments(schemas.OrderCreateSchema)
@blp.response(202, schemas.OrderSchema)
def place_order(headers, body):
    """Order home delivery. Answers 202 with status pending; the shop's stock decides next.
    503 ``overloaded`` while earlier orders wait too long for their answer (retry later)."""
    backlog = current_app.config["ORDER_BACKLOG"]
    backlog.check()
    result = rpc("place_order", actor=actor(), idempotency_key=headers["key"], order=body)
    g.correlation_id = result["order"]["id"]
    if result["created"]:
        backlog.accepted(result["order"]["id"])
    return result["order"]


@blp.route("")
@requires("resident", "merchant")
@blp.doc(security=BEARER)
@blp.arguments(schemas.OrderListArgs, location="query")
@blp.response(200, schemas.OrderPageSchema)
def list_orders(args):
    """Your orders (resident) or your shop's incoming orders (merchant), newest first."""
    return rpc("list_orders", actor=actor(), **args)


@blp.route("/<id:order_id>")
@requires()
@blp.doc(security=BEARER)
@blp.response(200, schemas.OrderSchema)
def get_order(order_id):
    g.correlation_id = order_id
    return rpc("get_order", actor=actor(), order_id=order_id)


def _action_view(action: str, role: str):
    @blp.route(f"/<id:order_id>/{action}", methods=["POST"], endpoint=f"order_{action}")
    @requires(role)
    @blp.doc(security=BEARER, summary=f"{action.capitalize()} an order ({role})")
    @blp.arguments(schemas.ReasonSchema, required=False)
    @blp.response(200, schemas.OrderSchema)
    def view(body, order_id):
        g.correlation_id = order_id
        return rpc("act", actor=actor(), order_id=order_id, action=action,
                   reason=(body or {}).get("reason"))

    view.__name__ = f"order_{action}"
    return view


# One route per action a person takes, from the orders domain's table (action -> role).
for _action, _role in domain.PERSON_ACTIONS.items():
    _action_view(_action, _role)
