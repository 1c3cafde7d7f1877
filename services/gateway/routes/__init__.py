"""Every blueprint the gateway serves."""

from services.gateway.routes import (
    auth,
    catalog,
    circle,
    dispatch,
    feedback,
    notices,
    notifications,
    orders,
    payments,
    system,
)

ROUTES = [
    system.blp, auth.blp, catalog.blp, circle.blp, orders.blp, dispatch.blp,
    notifications.blp, notices.blp, payments.blp, feedback.blp,
]
