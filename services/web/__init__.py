"""The web app: server-rendered pages for residents, shopkeepers, dispatchers, technicians
and planners, mounted in the gateway process (see docs/web.md).

One parent blueprint ``web`` carries what every page shares (CSRF check, error pages, the
base layout's context); each person's pages are a child blueprint in services/web/pages/.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request

from services.common.config import setting
from services.gateway import errors as gateway_errors
from services.web import errors, headers, i18n, session
from services.web.pages import ALL_PAGES, nav_links
from services.web.pages.done import done_message
from services.web.swagger import docs_blueprint

web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/static/web")


@web.before_request
def _csrf() -> None:
    session.check_csrf()


@web.after_request
def _no_store(response: Any) -> Any:
    # pages show one person's data: never cached by a shared cache
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.app_context_processor
def _layout() -> dict[str, Any]:
    who = None
    try:
        who = session.current()
    except session.SessionExpired:
        who = None
    return {
        "me": who,
        "csrf_token": session.csrf_token,
        "html_lang": i18n.html_lang,
        "poll_seconds": setting(None, "WEB_POLL_SECONDS"),
        "tile_url": setting(None, "MAP_TILE_URL"),
        "nav_links": nav_links,
        "done_message": done_message,
    }


for _child in ALL_PAGES:
    errors.register(_child)
    web.register_blueprint(_child)
errors.register(web)


def mount(app: Flask) -> None:
    """Add the web app and the local API docs to the gateway app."""
    city_tz = setting(None, "CITY_TZ")
    i18n.init(app, city_tz)
    app.jinja_env.filters.update(
        yuan=i18n.yuan,
        localtime=lambda value, fmt="%m-%d %H:%M": i18n.local_time(value, city_tz, fmt),
        qty=i18n.quantity,
        tr=i18n.translate_message,
    )
    app.register_blueprint(web)
    app.register_blueprint(docs_blueprint())
    security = headers.security_headers(setting(None, "MAP_TILE_URL"))

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _no_such_page(error: Any) -> Any:
        # a mistyped page address gets a kind page; the API keeps its JSON error shape
        if request.path.startswith(("/api/", "/healthz", "/readyz")):
            return gateway_errors.handle_http_exception(error)
        return errors.kind_page(error.code)

    @app.after_request
    def _security_headers(response: Any) -> Any:
        session.store_new_seed(response)  # a first visit's CSRF seed, if one was made
        return headers.apply(response, security)
