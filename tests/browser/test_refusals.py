"""Journey 5 (the web app's part): what the pages refuse, and how kindly."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from services import demo
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser


def _li_order(web_system) -> str:
    ids = web_system.demo
    home = demo.RESIDENTS["resident-li"]
    r = ApiClient(web_system.base_url).post(
        "/api/v1/orders", as_=("resident-li", "resident"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={"merchant_id": ids["merchants"]["merchant-huimin"],
              "items": [{"product_id": ids["products"]["农夫山泉 550ml"], "quantity": 1}],
              "delivery": {"address": home["address"], "location": home["location"]}})
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_form_posted_without_its_csrf_token_is_refused(people, web_system):
    li = people("resident-li")
    shop_id = web_system.demo["merchants"]["merchant-huimin"]
    water = web_system.demo["products"]["农夫山泉 550ml"]
    li.page.goto(f"/r/shops/{shop_id}")
    form = li.page.locator(f'[data-product="{water}"] form')
    form.evaluate("f => f.querySelector('input[name=csrf_token]').remove()")
    with li.page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button").click()
    assert answer.value.status == 403
    expect(li.page.locator(".kind-error")).to_contain_text("表单已过期")
    li.errors = [e for e in li.errors if "403" not in e]  # the refused post itself
    li.check()
    li.page.goto("/r/basket")
    expect(li.page.locator("main")).to_contain_text("购物篮是空的")


def test_another_residents_order_page_is_not_found(people, web_system):
    order_id = _li_order(web_system)
    zhang = people("resident-zhang")
    answer = zhang.page.goto(f"/r/orders/{order_id}")
    assert answer.status == 404
    expect(zhang.page.locator(".kind-error h1")).to_have_text("找不到")
    expect(zhang.page.locator("main")).not_to_contain_text("农夫山泉")
    zhang.errors = [e for e in zhang.errors if "404" not in e]  # the page's own status
    zhang.check()


def test_a_field_error_is_shown_next_to_its_field_in_the_users_language(people, web_system):
    li = people("resident-li")
    li.page.goto("/settings")
    latitude = li.page.get_by_label("纬度")
    latitude.fill("北边")
    with li.page.expect_response(lambda r: r.request.method == "POST") as answer:
        li.page.get_by_role("button", name="保存").click()
    assert answer.value.status == 422
    field = li.page.locator(".field", has=li.page.get_by_label("纬度"))
    expect(field.locator(".field-error")).to_have_text("请填写数字。")
    expect(li.page.get_by_label("纬度")).to_have_attribute("aria-invalid", "true")
    expect(li.page.get_by_label("纬度")).to_have_value("北边")  # what she typed stays
    li.errors = [e for e in li.errors if "422" not in e]
    li.check()
