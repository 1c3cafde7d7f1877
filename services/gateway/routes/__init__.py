"""Every blueprint the gateway serves."""

from services.gateway.routes import (
    auth,
    catalog,
    circle,
    dispatch,
    market,
    notices,
    notifications,
    orders,
    system,
)

ROUTES = [
    system.blp, auth.blp, catalog.blp, circle.blp, orders.blp, dispatch.blp,
    notifications.blp, notices.blp, market.blp,
]
