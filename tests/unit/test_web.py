"""The web app's own pieces, without services: money and errors as shown, and what the
gateway enforces on every page (headers, CSRF, sessions, local API docs)."""

from __future__ import annotations

import re

import pytest

from services.common.auth import issue_token
from services.web import basket, forms, i18n, summaries

SECRET = "s" * 40


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_JWT_SECRET", SECRET)
    monkeypatch.setenv("LIFECIRCLE_DEV_TOKENS", "1")
    from services.gateway.app import create_app

    return create_app()


def csrf_of(page: bytes) -> str:
    return re.search(rb'name="csrf-token" content="([0-9a-f]+)"', page).group(1).decode()


def test_money_is_shown_in_yuan_with_two_decimals_from_integer_fen():
    assert i18n.yuan(1600) == "16.00 元"
    assert i18n.yuan(5) == "0.05 元"
    assert i18n.yuan(None) == "—"


def test_prices_typed_in_yuan_become_exact_fen_or_stay_for_the_schema_to_refuse():
    form = {"a": "12.5", "b": "0.07", "c": "3", "d": "1.234", "e": "abc", "f": ""}
    assert [forms.yuan_to_fen(form, k) for k in "abcdef"] == [1250, 7, 300, "1.234", "abc",
                                                              None]


def test_a_map_point_is_read_from_its_two_dotted_number_boxes():
    form = {"delivery.location.lat": " 30.58 ", "delivery.location.lng": "east"}
    assert forms.location(form, "delivery.location") == {"lat": 30.58, "lng": "east"}
    assert forms.location({}, "home.location") == {"lat": None, "lng": None}


def test_nested_schema_errors_become_dotted_field_names():
    flat = forms.flatten({"delivery": {"location": {"lat": ["Not a valid number."]}},
                          "_schema": ["nothing to change"], "items": {"0": {"quantity": ["x"]}}})
    assert flat == {"delivery.location.lat": ["Not a valid number."],
                    "_form": ["nothing to change"], "items.0.quantity": ["x"]}


def test_a_tampered_basket_cookie_is_an_empty_basket():
    class Req:
        cookies = {"lc_basket": '{"merchant_id": "../x", "items": {"$gt": 1}}'}

    assert basket.read(Req()) == {"merchant_id": None, "items": {}}


def test_todays_takings_count_only_delivered_orders_placed_today_in_the_city():
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    orders = [
        {"created_at": "2026-12-01T01:00:00+00:00", "status": "delivered", "total_fen": 1600},
        {"created_at": "2026-12-01T02:00:00+00:00", "status": "accepted", "total_fen": 900},
        {"created_at": "2026-12-01T03:00:00+00:00", "status": "cancelled", "total_fen": 500},
        {"created_at": "2026-11-30T15:00:00+00:00", "status": "delivered", "total_fen": 700},
    ]
    today = summaries.today(orders, now, "Asia/Shanghai")
    # 2026-11-30T15:00Z is 23:00 on the 30th in Shanghai: yesterday
    assert (today["orders"], today["delivered"], today["takings_fen"]) == (2, 1, 1600)


def test_every_response_has_the_security_headers(app):
    client = app.test_client()
    for path in ("/signin", "/healthz", "/static/web/js/app.js", "/api/docs"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_pages_and_api_docs_have_no_inline_script_and_no_cdn(app):
    client = app.test_client()
    for path in ("/signin", "/api/docs"):
        html = client.get(path).data.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert "cdn" not in html.lower() and "https://" not in html
    assert client.get("/api/docs/swagger-ui-bundle.js").status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_with_it_accepted(app):
    client = app.test_client()
    page = client.get("/signin").data
    refused = client.post("/signin", data={"sub": "resident-li", "role": "resident"})
    assert refused.status_code == 403
    assert "lc_session" not in (refused.headers.get("Set-Cookie") or "")
    accepted = client.post("/signin", data={"sub": "resident-li", "role": "resident",
                                             "csrf_token": csrf_of(page)})
    assert accepted.status_code == 302
    cookie = accepted.headers.getlist("Set-Cookie")
    session = next(c for c in cookie if c.startswith("lc_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session


def test_a_token_from_another_browser_is_refused(app):
    one, other = app.test_client(), app.test_client()
    token = csrf_of(one.get("/signin").data)
    other.get("/signin")
    assert other.post("/signin", data={"sub": "x", "role": "resident",
                                       "csrf_token": token}).status_code == 403


def test_an_expired_session_sends_the_person_to_sign_in_again(app):
    tokens = app.config["TOKENS"]
    client = app.test_client()
    client.set_cookie("lc_session", issue_token(tokens, "resident-li", "resident", now=1000))
    answer = client.get("/r/")
    assert answer.status_code == 302
    assert "/signin?expired=1" in answer.headers["Location"]


def test_the_stream_accepts_the_session_cookie(app):
    tokens = app.config["TOKENS"]
    client = app.test_client()
    # without a token: 401; with the cookie it gets past authentication (to the Accept check)
    assert client.get("/api/v1/notifications/stream").status_code == 401
    client.set_cookie("lc_session", issue_token(tokens, "resident-li", "resident"))
    assert client.get("/api/v1/notifications/stream").status_code == 406


def test_pages_of_a_role_are_closed_to_others_and_sign_out_clears_the_session(app):
    tokens = app.config["TOKENS"]
    client = app.test_client()
    client.set_cookie("lc_session", issue_token(tokens, "merchant-x", "merchant"))
    forbidden = client.get("/r/orders")
    assert forbidden.status_code == 403 and "kind-error" in forbidden.data.decode()
    csrf = csrf_of(client.get("/welcome").data)
    out = client.post("/signout", data={"csrf_token": csrf})
    assert out.status_code == 302
    assert any(c.startswith("lc_session=;") for c in out.headers.getlist("Set-Cookie"))


def test_chinese_first_and_english_by_a_remembered_switch(app):
    client = app.test_client()
    page = client.get("/signin")
    assert "登录" in page.data.decode() and 'lang="zh-CN"' in page.data.decode()
    client.post("/lang", data={"lang": "en", "csrf_token": csrf_of(page.data)})
    again = client.get("/signin").data.decode()
    assert "Sign in" in again and 'lang="en"' in again


def test_field_errors_are_translated_with_their_numbers_kept(app):
    with app.test_request_context("/"):
        assert i18n.translate_message("Not a valid number.") == "请填写数字。"
        assert i18n.translate_message(
            "Must be greater than or equal to 1 and less than or equal to 5.") \
            == "请填写 1 到 5 之间的数。"
        assert i18n.translate_message("something new") == "something new"


def test_a_mistyped_page_address_gets_a_kind_page_and_the_api_keeps_its_json(app):
    client = app.test_client()
    page = client.get("/r/orders/not-an-order")
    assert page.status_code == 404 and "kind-error" in page.data.decode()
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"
