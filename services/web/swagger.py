"""/api/docs: Swagger UI from the flask-swagger-ui wheel's own files (Swagger UI 5), so the
page renders without internet; started by a static script (no inline script, CSP)."""

from __future__ import annotations

import os

import flask_swagger_ui
from flask import Blueprint, render_template, send_from_directory

DIST = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "index.css", "favicon-32x32.png",
          "favicon-16x16.png", "oauth2-redirect.html", "oauth2-redirect.js")


def docs_blueprint() -> Blueprint:
    bp = Blueprint("api_docs", __name__, template_folder="templates")

    @bp.route("/api/docs")
    @bp.route("/api/docs/")
    def docs():
        return render_template("docs/swagger.html", spec_url="/api/v1/openapi.json")

    @bp.route("/api/docs/<any(" + ", ".join(f'"{a}"' for a in ASSETS) + "):asset>")
    def asset(asset: str):
        return send_from_directory(DIST, asset, max_age=3600)

    return bp
