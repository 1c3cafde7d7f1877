"""Every blueprint the gateway serves."""

from services.gateway.routes import (
    auth,
    catalog,
    circle,
    dispatch,
    feedback,
    market,
    my_shops,
    notices,
    notifications,
    orders,
    payments,
    quotes,
    system,
)

ROUTES = [
    system.blp, auth.blp, catalog.blp, circle.blp, orders.blp, dispatch.blp,
    notifications.blp, notices.blp, quotes.blp, my_shops.blp, market.blp, payments.blp,
    feedback.blp,
]
