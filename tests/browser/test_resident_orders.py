"""Journeys 1 and 2: 李奶奶 orders lunch and vegetables on her phone; the canteen watches its
orders arrive and moves hers along; her page follows without being reloaded."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import DESKTOP
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser

LI = "resident-li"


def test_li_orders_the_set_meal_and_watches_it_confirmed_accepted_sent_and_delivered(
        people, web_system):
    ids = web_system.demo
    canteen_id = ids["merchants"]["merchant-canteen"]
    meal_id = ids["products"]["两荤一素套餐"]

    canteen = people("merchant-canteen", DESKTOP)
    canteen.page.goto(f"/shop/?m={canteen_id}")
    canteen.mark()

    li = people(LI)
    li.page.goto("/r/")
    shop_row = li.page.locator(f'[data-shop="{canteen_id}"]')
    expect(shop_row).to_contain_text("民意街社区长者食堂")
    expect(shop_row).to_contain_text(re.compile(r"步行 \d+ 分钟"))
    expect(li.page.locator(".map .leaflet-interactive").first).to_be_visible()
    li.check()

    shop_row.get_by_role("link").click()
    meal = li.page.locator(f'[data-product="{meal_id}"]')
    expect(meal).to_contain_text("16.00 元")
    li.check()
    meal.get_by_role("button", name="加入购物篮").click()
    expect(li.page.locator("#messages")).to_contain_text("已加入购物篮")

    li.page.goto("/r/basket")
    expect(li.page.locator("#basket-total")).to_have_attribute("data-fen", "1600")
    expect(li.page.get_by_label("送到")).to_have_value("江汉区民意街12号3单元502")
    li.check()
    li.page.get_by_role("button", name="提交订单").click()
    expect(li.page).to_have_url(re.compile(r"/r/orders/ord_[0-9a-f]{32}$"))
    order_id = li.page.url.rsplit("/", 1)[1]
    li.mark()

    # confirmed once the canteen's stock is reserved: on her open page, no reload
    status = li.page.locator("#order-status")
    expect(status).to_have_attribute("data-status", "confirmed")
    expect(li.page.locator("#order-total")).to_have_attribute("data-fen", "1600")
    assert li.same_page()
    li.check()

    # the canteen's open page shows it arrive, marked as new
    arrived = canteen.page.locator(f'[data-order-id="{order_id}"]')
    expect(arrived).to_be_visible()
    expect(arrived).to_have_class(re.compile("new-order"))
    expect(arrived).to_contain_text("两荤一素套餐")
    assert canteen.same_page()
    canteen.check()

    for action, status_after in (("accept", "accepted"), ("dispatch", "out_for_delivery"),
                                 ("deliver", "delivered")):
        canteen.page.locator(f'[data-order-id="{order_id}"] [data-action="{action}"]').click()
        expect(status).to_have_attribute("data-status", status_after)
    assert li.same_page()
    timeline = li.page.locator(".timeline li")
    expect(timeline).to_have_count(5)  # pending, confirmed, accepted, out for delivery, delivered
    expect(li.page.locator(".timeline")).to_contain_text("已送达")
    li.check()

    expect(canteen.page.locator(f'[data-order-id="{order_id}"]')).to_have_count(0)
    expect(canteen.page.locator("#takings")).not_to_have_attribute("data-fen", "0")
    canteen.check()


def test_the_price_shown_for_350_g_is_the_price_charged(people, web_system):
    ids = web_system.demo
    wang_id = ids["merchants"]["merchant-wang"]
    greens_id = ids["products"]["本地上海青"]
    eggs_id = ids["products"]["土鸡蛋"]

    li = people(LI)
    li.page.goto(f"/r/shops/{wang_id}")
    greens = li.page.locator(f'[data-product="{greens_id}"]')
    expect(greens).to_contain_text("东西湖蔬菜合作社")  # supplier, batch, arrival date
    expect(greens).to_contain_text("DXH-1129")
    greens.get_by_label("重量（克）").fill("350")
    expect(greens.locator("output")).to_contain_text("(350 g)")
    shown = greens.locator("[data-price-fen]")
    shown_fen = int(shown.get_attribute("data-price-fen"))
    assert shown.inner_text().startswith(f"{shown_fen // 100}.{shown_fen % 100:02d} 元")
    li.check()
    greens.get_by_role("button", name="加入购物篮").click()

    # the stall's minimum order is 10 元: a kilo of eggs as well
    eggs = li.page.locator(f'[data-product="{eggs_id}"]')
    eggs.get_by_label("重量（克）").fill("1000")
    expect(eggs.locator("output")).to_contain_text("(1000 g)")
    eggs.get_by_role("button", name="加入购物篮").click()

    li.page.goto("/r/basket")
    line = li.page.locator(f'tr[data-product="{greens_id}"] .line-total')
    expect(line).to_have_attribute("data-fen", str(shown_fen))
    basket_total = int(li.page.locator("#basket-total").get_attribute("data-fen"))
    li.page.get_by_role("button", name="提交订单").click()
    expect(li.page.locator("#order-status")).to_have_attribute("data-status", "confirmed")
    order_id = li.page.url.rsplit("/", 1)[1]
    li.check()

    charged = ApiClient(web_system.base_url).get(f"/api/v1/orders/{order_id}",
                                                 as_=(LI, "resident")).json()
    line = next(x for x in charged["lines"] if x["product_id"] == greens_id)
    assert line["quantity"] == 350
    assert line["line_total_fen"] == shown_fen
    assert charged["total_fen"] == basket_total
