"""Journey 6 (issue 15): the wet market's receipt and the recycling box, in the browser.

A shopper opens the demo receipt by its code (as the QR on the slip does) and sees the total
and where the greens came from; 李奶奶 finds it through her navigation and flags it as
short-weighed; the market manager's open page shows the flag without a reload. 张先生 sees
his drop-off credit, asks for a drop-off code, the box posts a drop-off with it, and his
credit and the recycling point's intake for today both count it."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser


def test_a_receipt_is_public_and_a_residents_flag_reaches_the_market_manager(people,
                                                                            web_system):
    code = web_system.demo["market"]["receipt"]
    stall = web_system.demo["merchants"]["merchant-wang"]

    shopper = people(None)  # nobody signed in: the slip's QR opens the page
    shopper.page.goto(f"/receipt/{code}")
    expect(shopper.page.locator("#receipt-total")).to_have_text("4.50 元")
    expect(shopper.page.locator("#receipt-grams")).to_have_text("750 g")
    expect(shopper.page.locator("#batch-origin")).to_have_text("湖北武汉东西湖")
    expect(shopper.page.locator("main")).to_contain_text("东西湖蔬菜合作社")
    expect(shopper.page.locator("main")).to_contain_text("民意菜场·王阿姨蔬菜摊")
    expect(shopper.page.get_by_role("link", name="登录后举报缺斤少两")).to_be_visible()
    shopper.check()

    manager = people("manager-minyi", DESKTOP)  # lands on the market's stalls
    expect(manager.page.locator(f"#stalls tr[data-stall='{stall}']")).to_contain_text("4.50 元")
    manager.check()
    manager.page.get_by_role("link", name="异常称重", exact=True).click()
    expect(manager.page.locator("#flagged-list")).to_contain_text("这一天没有小票被举报")
    manager.mark()

    li = people("resident-li")
    li.page.get_by_role("link", name="查小票", exact=True).click()
    li.page.get_by_label("小票码").fill(code.lower())
    li.page.get_by_role("button", name="查看小票").click()
    expect(li.page.locator("#receipt-code")).to_have_text(code)
    li.page.get_by_label("哪里不对（比如回家称了多少）").fill("回家称只有六两")
    li.page.get_by_role("button", name="举报缺斤少两").click()
    expect(li.page.locator("#flagged")).to_contain_text("已告知市场管理员")
    li.check()

    # the manager's open page shows the flag without a reload (the notification, or the poll)
    flagged = manager.page.locator(f"#flagged-list [data-receipt='{code}']")
    expect(flagged).to_contain_text("居民举报：1 次")
    assert manager.same_page()
    manager.check()
    manager.page.get_by_role("link", name="摊位", exact=True).click()
    expect(manager.page.locator(f"#stalls tr[data-stall='{stall}'] .flagged")).to_have_text("1")
    manager.check()


def test_an_unknown_receipt_code_gets_the_kind_not_found_page(people, web_system):
    shopper = people(None)
    answer = shopper.page.goto("/receipt/0000000000")
    assert answer.status == 404
    expect(shopper.page.locator(".kind-error h1")).to_have_text("找不到")
    shopper.errors = [e for e in shopper.errors if "404" not in e]  # the page's own status
    shopper.check()


def test_a_drop_off_is_credited_to_the_resident_and_counted_in_the_points_intake(people,
                                                                                 web_system):
    zhang = people("resident-zhang")
    zhang.page.get_by_role("link", name="回收", exact=True).click()
    # the demo's drop-off: 3250 g of paper at 8 元/kg and 410 g of metal at 25 元/kg
    expect(zhang.page.locator("#credit-total")).to_have_text("36.25 元")
    expect(zhang.page.locator("#drop-offs")).to_contain_text("纸类 3250 g")
    expect(zhang.page.locator("#drop-offs")).to_contain_text("民意社区智能回收站")
    zhang.check()
    zhang.page.get_by_role("button", name="领取投递码").click()
    shown = zhang.page.locator("#drop-off-code")
    expect(shown).to_have_text(re.compile(r"^[0-9A-HJKMNP-TV-Z]{8}$"))
    zhang.check()

    # the box scans his code and posts 500 g of plastic (12 元/kg: 6.00 元)
    box = web_system.demo["recycling"]["box"]["token"]
    r = ApiClient(web_system.base_url).post(
        "/api/v1/recycling/drop-offs", headers={"X-Device-Token": box},
        json={"sequence": f"browser-{uuid.uuid4().hex[:12]}", "code": shown.inner_text(),
              "items": [{"category": "plastic", "grams": 500}], "amount_fen": 600,
              "weighed_at": datetime.now(UTC).isoformat()})
    assert r.status_code == 201, r.text
    zhang.page.reload()
    expect(zhang.page.locator("#credit-total")).to_have_text("42.25 元")
    zhang.check()

    point = people("merchant-recycle", DESKTOP)
    point.page.get_by_role("link", name="回收", exact=True).click()
    expect(point.page.locator("#intake tr[data-category='paper']")).to_contain_text("3250 g")
    expect(point.page.locator("#intake tr[data-category='plastic']")).to_contain_text("500 g")
    expect(point.page.locator("#intake-drop-offs")).to_have_text("2")
    expect(point.page.locator("#intake-credited")).to_have_text("42.25 元")
    point.check()

    # the point changes a rate: typed in 元, shown back as posted
    point.page.get_by_label("织物").fill("0.5")
    point.page.get_by_role("button", name="公布回收价").click()
    expect(point.page.locator("#messages")).to_contain_text("已保存")
    expect(point.page.get_by_label("织物")).to_have_value("0.50")
    point.check()
