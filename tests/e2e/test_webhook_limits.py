"""Webhooks per account are capped (issue 10, item 10), and registration refuses every
spelling of an internal address (item 9) through the running gateway."""

from __future__ import annotations

import pytest

from tests.helpers import assert_error_shape, unique

pytestmark = pytest.mark.e2e


def test_an_account_registers_at_most_five_webhooks(api):
    shop = (unique("merchant"), "merchant")
    for i in range(5):
        r = api.post("/api/v1/me/webhooks", as_=shop,
                     json={"url": f"https://hooks.example.com/lifecircle/{i}"})
        assert r.status_code == 201, r.text
    r = api.post("/api/v1/me/webhooks", as_=shop, json={"url": "https://hooks.example.com/6"})
    assert_error_shape(r, 409, "too_many_webhooks")
    assert len(api.get("/api/v1/me/webhooks", as_=shop).json()["items"]) == 5
    other = (unique("merchant"), "merchant")  # the cap is per account
    r = api.post("/api/v1/me/webhooks", as_=other, json={"url": "https://hooks.example.com/o"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("url", ["https://localhost./x", "https://2130706433/x",
                                 "https://0x7f000001/x", "https://127.000.000.001/x",
                                 "https://[64:ff9b::a9fe:a9fe]/x", "https://[2002:a00:1::]/x",
                                 "https://[::ffff:10.0.0.1]/x"])
def test_registration_refuses_internal_addresses_however_spelled(api, url):
    r = api.post("/api/v1/me/webhooks", as_=(unique("merchant"), "merchant"), json={"url": url})
    assert "url" in assert_error_shape(r, 422, "validation_error")["details"]
