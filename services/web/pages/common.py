"""Pages every signed-in person has: welcome, inbox (with the live unread count), settings,
and the district outline the maps draw."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for

from services.notify import schemas as notify_schemas
from services.web import forms, session
from services.web.calls import actor, call, page
from services.web.i18n import LANGUAGES

bp = Blueprint("common", __name__)

OUTLINE = Path(__file__).resolve().parents[2] / "common" / "geodata" / "jianghan.geojson"
# The notify service's language codes for ours.
NOTIFY_LANGUAGE = {"zh_CN": "zh-CN", "en": "en"}


@bp.route("/welcome")
@page()
def welcome():
    return render_template("common/welcome.html")


@bp.route("/inbox")
@page()
def inbox():
    data = call("notify", "list_notifications", actor=actor(), page=1, page_size=50)
    return render_template("common/inbox.html", inbox=data)


@bp.route("/inbox/read-all", methods=["POST"])
@page()
def read_all():
    call("notify", "mark_all_read", actor=actor())
    return redirect(url_for("web.common.inbox"))


@bp.route("/inbox/badge")
@page()
def unread_badge():
    data = call("notify", "list_notifications", actor=actor(), page=1, page_size=1)
    return render_template("common/badge.html", count=data["unread_count"])


@bp.route("/settings", methods=["GET", "POST"])
@page()
def settings():
    who = session.require()
    prefs = call("notify", "get_preferences", actor=actor())
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        lang = form.get("language") if form.get("language") in LANGUAGES else None
        changes: dict = {}
        if lang:
            changes["language"] = NOTIFY_LANGUAGE[lang]
        if form.get("quiet_enabled"):
            changes["quiet_hours"] = {"start": forms.text(form, "quiet_hours.start"),
                                      "end": forms.text(form, "quiet_hours.end")}
        else:
            changes["quiet_hours"] = None
        if who.role == "resident":
            changes["home"] = {
                "location": forms.location(form, "home.location"),
                "address": forms.text(form, "home.address"),
                "community": forms.text(form, "home.community"),
            }
        with forms.field_errors(errors):
            forms.load(notify_schemas.PreferencesUpdateSchema(), changes)
            call("notify", "put_preferences", actor=actor(), preferences=changes)
            response = redirect(url_for("web.common.settings", done="saved"))
            if lang:
                response.set_cookie(session.LANG_COOKIE, lang, max_age=session.YEAR,
                                    httponly=True, samesite="Lax", secure=request.is_secure)
            return response
    return render_template("common/settings.html", prefs=prefs, errors=errors, form=form,
                           role=who.role), 422 if errors else 200


@bp.route("/geo/jianghan.geojson")
def outline():
    """The district outline, when the committed GeoJSON is there (maps skip it otherwise)."""
    if not OUTLINE.exists():
        abort(404)
    return send_file(OUTLINE, mimetype="application/geo+json", max_age=86400)
