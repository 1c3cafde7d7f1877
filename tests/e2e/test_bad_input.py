"""Whatever a client sends, the answer is a clear error in one shape, never a 500."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from tests.helpers import assert_error_shape, unique


def order_headers():
    return {"Idempotency-Key": str(uuid.uuid4())}


def test_no_token_is_a_401(api):
    assert_error_shape(api.get("/api/v1/orders"), 401, "unauthorized")
    assert_error_shape(api.post("/api/v1/orders", json={}), 401, "unauthorized")


@pytest.mark.parametrize("token", ["garbage", "a.b.c",
                                   "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0."])
def test_a_bad_or_unsigned_token_is_a_401(api, token):
    r = api.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(r, 401, "unauthorized")


def test_the_wrong_role_is_a_403(api, shop):
    r = api.post("/api/v1/orders", as_=shop.owner, json=shop.order_body(),
                 headers=order_headers())
    assert_error_shape(r, 403, "forbidden")


def test_unknown_fields_are_rejected_by_name(api, shop, resident):
    body = {**shop.order_body(), "discount_fen": 1000}
    error = assert_error_shape(api.post("/api/v1/orders", as_=resident, json=body,
                                        headers=order_headers()), 422, "validation_error")
    assert "discount_fen" in error["details"]


@pytest.mark.parametrize("items, field", [
    ([{"product_id": "prd_" + "0" * 32, "quantity": "2"}], "items"),
    ([{"product_id": "prd_" + "0" * 32, "quantity": -1}], "items"),
    ([{"product_id": "prd_" + "0" * 32, "quantity": 2.5}], "items"),
    ([{"product_id": {"$gt": ""}, "quantity": 1}], "items"),
    ([], "items"),
])
def test_wrong_types_and_values_in_an_order_are_rejected(api, shop, resident, items, field):
    body = {**shop.order_body(), "items": items}
    error = assert_error_shape(api.post("/api/v1/orders", as_=resident, json=body,
                                        headers=order_headers()), 422, "validation_error")
    assert field in error["details"]


def test_an_order_without_an_idempotency_key_is_rejected(api, shop, resident):
    error = assert_error_shape(api.post("/api/v1/orders", as_=resident, json=shop.order_body()),
                               422, "validation_error")
    assert "Idempotency-Key" in error["details"]


@pytest.mark.parametrize("lat", [91, -90.5, "x", float("nan")])
def test_impossible_coordinates_are_rejected(api, shop, resident, lat):
    body = shop.order_body()
    body["delivery"]["location"]["lat"] = lat
    data = str(body).replace("'", '"').replace("nan", "NaN")
    r = api.post("/api/v1/orders", as_=resident, data=data.encode(),
                 headers={**order_headers(), "Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert_error_shape(r, r.status_code)


def test_malformed_json_is_a_400(api, resident):
    r = api.post("/api/v1/orders", as_=resident, data=b'{"merchant_id": ',
                 headers={**order_headers(), "Content-Type": "application/json"})
    assert_error_shape(r, 400, "bad_request")


def test_invalid_utf8_is_a_400(api, resident):
    r = api.post("/api/v1/orders", as_=resident, data=b'{"note": "\xff\xfe"}',
                 headers={**order_headers(), "Content-Type": "application/json"})
    assert_error_shape(r, 400, "bad_request")


def test_deeply_nested_json_is_a_400_not_a_crash(api, resident):
    body = b"[" * 50_000 + b"]" * 50_000
    r = api.post("/api/v1/orders", as_=resident, data=body,
                 headers={**order_headers(), "Content-Type": "application/json"})
    assert r.status_code in (400, 413)
    assert_error_shape(r, r.status_code)


def test_an_oversized_body_is_a_413_and_the_connection_stays_usable(api, resident):
    body = b'{"note": "' + b"x" * (100 * 1024) + b'"}'
    for _ in range(10):  # the refused body once broke the next request on the connection
        r = api.post("/api/v1/orders", as_=resident, data=body,
                     headers={**order_headers(), "Content-Type": "application/json"})
        assert_error_shape(r, 413, "payload_too_large")
        assert api.get("/api/v1/orders", as_=resident).status_code == 200


def test_a_huge_number_and_a_very_long_name_are_rejected(api, shop):
    path = f"/api/v1/merchants/{shop.merchant['id']}/products"
    r = api.post(path, as_=shop.owner, json={"name": "米", "unit": "袋",
                                             "price_fen": 10 ** 30, "stock": 1})
    assert "price_fen" in assert_error_shape(r, 422)["details"]
    r = api.post(path, as_=shop.owner, json={"name": "米" * 5000, "unit": "袋",
                                             "price_fen": 100, "stock": 1})
    assert "name" in assert_error_shape(r, 422)["details"]


@pytest.mark.parametrize("path", [
    "/api/v1/orders/..%2F..%2Fetc%2Fpasswd",
    "/api/v1/orders/ord_123",
    "/api/v1/products/%7B%22%24gt%22%3A%22%22%7D",
    "/api/v1/orders/ORD_" + "A" * 32,
])
def test_ids_that_are_not_ids_are_404(api, resident, path):
    assert_error_shape(api.get(path, as_=resident), 404, "not_found")


def test_an_unknown_order_is_404(api, resident):
    assert_error_shape(api.get("/api/v1/orders/ord_" + "0" * 32, as_=resident), 404)


def test_dev_tokens_reject_unknown_roles_and_odd_subjects(api):
    r = api.post("/api/v1/auth/dev-token", json={"sub": "x", "role": "superuser"})
    assert "role" in assert_error_shape(r, 422)["details"]
    r = api.post("/api/v1/auth/dev-token", json={"sub": "x" * 500, "role": "resident"})
    assert "sub" in assert_error_shape(r, 422)["details"]


def test_an_unknown_path_and_a_wrong_method_use_the_error_shape(api):
    assert_error_shape(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error_shape(api.request("DELETE", "/api/v1/orders",
                                   as_=(unique("resident"), "resident")), 405)


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["services"]) == {"catalog", "orders", "dispatch", "notify"}


def test_the_openapi_document_describes_the_order_endpoints(api):
    spec = api.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/orders"]["post"]
    assert "202" in post["responses"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]


# Issue 10, item 7: input Python decodes but nothing downstream can encode or compute.

LONE_SURROGATE = "\ud800"


def _surrogate_requests(shop, resident):
    """One text field per service (the gateway checks every JSON body before any of them)."""
    order = shop.order_body()
    order["delivery"]["address"] = "民意街" + LONE_SURROGATE
    return [
        ("POST", "/api/v1/merchants", (unique("merchant"), "merchant"), {
            "name": LONE_SURROGATE, "business_type": "breakfast",
            "location": {"lat": 30.58, "lng": 114.27}, "address": "x"}),
        ("POST", f"/api/v1/merchants/{shop.merchant['id']}/products", shop.owner,
         {"name": "米" + LONE_SURROGATE, "unit": "袋", "price_fen": 100, "stock": 1}),
        ("POST", "/api/v1/orders", resident, order),
        ("POST", "/api/v1/repairs", resident, {
            "skill": "plumbing", "description": LONE_SURROGATE, "address": "民意街12号",
            "location": {"lat": 30.58, "lng": 114.27}}),
        ("PUT", "/api/v1/me/notification-preferences", resident,
         {"timezone": LONE_SURROGATE}),
        ("POST", "/api/v1/notices", (unique("planner"), "planner"), {
            LONE_SURROGATE: "a key that is not text"}),
    ]


def test_a_lone_surrogate_in_any_text_field_is_refused_not_a_500(api, shop, resident):
    for method, path, who, body in _surrogate_requests(shop, resident):
        r = api.request(method, path, as_=who, json=body, headers=order_headers())
        error = assert_error_shape(r, 400, "bad_request")
        assert error["details"], (path, error)


@pytest.mark.parametrize("number", [b"9" * 5000, b"-" + b"1" * 4301, b"1" + b"0" * 10_000])
def test_a_number_with_thousands_of_digits_is_a_400(api, shop, number):
    body = (b'{"name": "\xe7\xb1\xb3", "unit": "x", "stock": 1, "price_fen": ' + number + b"}")
    r = api.post(f"/api/v1/merchants/{shop.merchant['id']}/products", as_=shop.owner,
                 data=body, headers={"Content-Type": "application/json"})
    assert_error_shape(r, 400, "bad_request")


def test_a_request_line_over_8_kb_is_refused_in_the_error_shape(api):
    r = api.get("/api/v1/business-types?q=" + "x" * 9000)
    assert r.headers["Content-Type"].startswith("application/json")
    assert_error_shape(r, 414, "uri_too_long")
    assert api.get("/healthz").status_code == 200  # the server is fine afterwards


def test_too_many_or_too_large_headers_are_refused_in_the_error_shape(api):
    many = {f"X-Filler-{i}": "1" for i in range(150)}
    assert_error_shape(api.get("/healthz", headers=many), 431, "header_fields_too_large")
    assert_error_shape(api.get("/healthz", headers={"X-Big": "x" * 9000}), 431,
                       "header_fields_too_large")


@pytest.mark.parametrize("query", [
    "from=9999-12-25&to=9999-12-31", "from=0001-01-01", "to=0001-01-01", "to=9999-12-31",
    "from=0001-01-01&to=9999-12-31",
])
def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_500(api, query):
    r = api.get(f"/api/v1/dispatch/stats?{query}", as_=(unique("dispatcher"), "dispatcher"))
    error = assert_error_shape(r, 422, "validation_error")
    assert {"from", "to"} & set(error["details"]), error


def test_a_notice_that_has_already_expired_is_refused_with_the_field(api):
    r = api.post("/api/v1/notices", as_=(unique("planner"), "planner"),
                 headers=order_headers(), json={
                     "title": "停水通知", "body": "明日停水。",
                     "audience": {"communities": ["民意街社区"]},
                     "expires_at": "2020-01-01T00:00:00+08:00"})
    assert "expires_at" in assert_error_shape(r, 422, "validation_error")["details"]


def test_a_token_whose_subject_spells_a_role_inbox_is_refused(system, api):
    # Signed with the system's own key, as a careless identity provider might issue it.
    token = jwt.encode({"sub": "role:dispatcher", "role": "resident", "iss": "lifecircle",
                        "exp": int(time.time()) + 600}, system.env["LIFECIRCLE_JWT_SECRET"],
                       algorithm="HS256")
    r = api.get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"})
    assert_error_shape(r, 401, "unauthorized")
    r = api.post("/api/v1/auth/dev-token", json={"sub": "role:dispatcher", "role": "resident"})
    assert "sub" in assert_error_shape(r, 422)["details"]
