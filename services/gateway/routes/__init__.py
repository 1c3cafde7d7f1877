"""Every blueprint the gateway serves."""

from services.gateway.routes import auth, catalog, notifications, orders, system

ROUTES = [system.blp, auth.blp, catalog.blp, orders.blp, notifications.blp]
