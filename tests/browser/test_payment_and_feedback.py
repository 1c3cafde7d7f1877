"""Issue 15 on the pages: 李奶奶 pays for her lunch in the payment sandbox and sees it paid; the
canteen sees it paid, declines it, and both see it refunded. She tells her community the
vegetable stall's scale seems short; the planner finds it in the queue and under the stall,
answers and closes it; her open page shows the answer and the status, her inbox the news."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.chromium import DESKTOP
from tests.helpers import unique

pytestmark = pytest.mark.browser

LI = "resident-li"


def order_the_set_meal(li, canteen_id: str, meal_id: str) -> str:
    li.page.goto(f"/r/shops/{canteen_id}")
    li.page.locator(f'[data-product="{meal_id}"]').get_by_role("button", name="加入购物篮").click()
    expect(li.page.locator("#messages")).to_contain_text("已加入购物篮")
    li.page.goto("/r/basket")
    li.page.get_by_role("button", name="提交订单").click()
    expect(li.page).to_have_url(re.compile(r"/r/orders/ord_[0-9a-f]{32}$"))
    return li.page.url.rsplit("/", 1)[1]


def test_li_pays_in_the_sandbox_and_the_declined_order_is_refunded_on_both_pages(
        people, web_system):
    ids = web_system.demo
    canteen_id = ids["merchants"]["merchant-canteen"]
    li = people(LI)
    order_id = order_the_set_meal(li, canteen_id, ids["products"]["两荤一素套餐"])

    payment = li.page.locator("#payment-status")
    expect(li.page.locator("#order-status")).to_have_attribute("data-status", "confirmed")
    expect(payment).to_have_attribute("data-status", "unpaid")
    expect(payment).to_have_text("未支付")
    expect(li.page.locator('[data-pay="cash"]')).to_be_visible()  # the canteen takes cash
    li.check()
    li.page.locator('[data-pay="online"]').click()

    # the sandbox's own page stands in for the provider's, and says so
    expect(li.page).to_have_url(re.compile(rf"/r/orders/{order_id}/pay/sandbox$"))
    expect(li.page.locator("#sandbox-banner")).to_contain_text("支付沙箱")
    expect(li.page.locator("#sandbox-amount")).to_have_attribute("data-fen", "1600")
    li.check()
    li.page.get_by_role("button", name="付款（沙箱）").click()
    expect(li.page).to_have_url(re.compile(rf"/r/orders/{order_id}\?done=paid$"))
    expect(payment).to_have_attribute("data-status", "paid")
    expect(payment).to_have_text("已支付")
    expect(li.page.locator("#paid-amount")).to_have_attribute("data-fen", "1600")
    expect(li.page.locator("[data-pay]")).to_have_count(0)  # nothing more to pay
    li.check()
    li.mark()

    canteen = people("merchant-canteen", DESKTOP)
    canteen.page.goto(f"/shop/?m={canteen_id}")
    card = canteen.page.locator(f'[data-order-id="{order_id}"]')
    expect(card.locator("[data-payment]")).to_have_attribute("data-payment", "paid")
    expect(card).to_contain_text("已支付")
    canteen.check()
    card.get_by_label("原因").fill("今日已售罄")
    card.get_by_role("button", name="拒单").click()
    expect(card).to_have_count(0)

    # her open page follows: declined, and the money back by itself
    expect(li.page.locator("#order-status")).to_have_attribute("data-status", "declined")
    expect(payment).to_have_attribute("data-status", "refunded")
    expect(payment).to_have_text("已退款")
    expect(li.page.locator("#refunded-amount")).to_have_attribute("data-fen", "1600")
    assert li.same_page()
    li.check()

    today = canteen.page.locator(f'[data-today-order="{order_id}"] [data-payment]')
    expect(today).to_have_attribute("data-payment", "refunded")
    expect(today).to_have_text("已退款")
    canteen.check()

    li.page.goto("/inbox")
    expect(li.page.locator("main")).to_contain_text("支付成功")
    expect(li.page.locator("main")).to_contain_text("退款已到账")
    li.check()


def test_li_reports_the_stalls_scale_and_the_planner_answers_and_closes_it(
        people, web_system):
    stall_id = web_system.demo["merchants"]["merchant-wang"]
    said = unique("王阿姨摊位的秤好像不准，一斤青菜少了一两")
    li = people(LI)
    li.page.goto(f"/r/shops/{stall_id}")
    li.page.locator("#report-shop").click()
    subject = li.page.get_by_label("关于什么？")
    expect(subject).to_have_value(f"shop:{stall_id}")
    expect(subject.locator("option:checked")).to_have_text("店铺：民意菜场·王阿姨蔬菜摊")
    li.check()
    li.page.get_by_label("类别").select_option("complaint")
    li.page.get_by_label("您想说什么？").fill(said)
    li.page.get_by_role("button", name="发送给社区").click()
    expect(li.page.locator("#messages")).to_contain_text("已发送")
    mine = li.page.locator("[data-feedback]", has_text=said)
    expect(mine.locator("[data-status]").first).to_have_attribute("data-status", "open")
    expect(mine).to_contain_text("店铺：民意菜场·王阿姨蔬菜摊")
    li.check()
    li.mark()

    planner = people("planner-jianghan", DESKTOP)
    planner.page.goto("/p/feedback/")
    row = planner.page.locator("#queue-open tr[data-feedback]", has_text=said)
    expect(row).to_contain_text("投诉")
    planner.check()
    row.get_by_role("link", name=re.compile("王阿姨摊位")).click()
    expect(planner.page.locator("#feedback-shop")).to_have_text("民意菜场·王阿姨蔬菜摊")
    planner.check()
    feedback_url = planner.page.url

    # what is said about the stall, with the stall: the planner's view of that shop
    planner.page.locator("#subject-feedback").click()
    expect(planner.page.locator("#subject-shop")).to_contain_text("民意菜场A区12号")
    expect(planner.page.locator("tr[data-feedback]", has_text=said)).to_have_count(1)
    planner.check()

    planner.page.goto(feedback_url)
    planner.page.get_by_label("您的回复").fill("已请市场管理员复秤，多收的钱会退给您。")
    planner.page.get_by_role("button", name="发送回复").click()
    expect(planner.page.locator("#messages")).to_contain_text("回复已发送")
    expect(planner.page.locator("#feedback-status")).to_have_attribute("data-status",
                                                                        "answered")
    planner.check()
    planner.page.get_by_label("办结说明（可不填）").fill("已复秤并退款。")
    planner.page.get_by_role("button", name="办结").click()
    expect(planner.page.locator("#feedback-status")).to_have_attribute("data-status", "closed")
    expect(planner.page.locator("main form textarea")).to_have_count(0)
    planner.check()

    # her open page shows the answers and the status without a reload
    expect(mine.locator("[data-status]").first).to_have_attribute("data-status", "closed")
    expect(mine.locator(".answer-text")).to_have_text(["已请市场管理员复秤，多收的钱会退给您。",
                                                       "已复秤并退款。"])
    assert li.same_page()
    li.check()
    li.page.goto("/inbox")
    expect(li.page.locator("main")).to_contain_text("社区已回复您的反馈")
    expect(li.page.locator("main")).to_contain_text("反馈已办结")
    li.check()
