"""Journey 4: the planner opens the coverage map, clicks the cell around 李奶奶's home (it
lacks a breakfast shop), posts a notice to the residents within a walk of it, with the
audience size shown before posting; 李奶奶 sees the notice."""

from __future__ import annotations

import h3
import pytest
from playwright.sync_api import expect

from services import demo
from services.web.pages.planner import DEFAULT_RES
from tests.browser.conftest import DESKTOP
from tests.helpers import unique

pytestmark = pytest.mark.browser


def test_the_planner_finds_a_gap_and_tells_the_residents_around_it(people, web_system):
    home = demo.RESIDENTS["resident-li"]["location"]
    cell = h3.latlng_to_cell(home["lat"], home["lng"], DEFAULT_RES)

    planner = people("planner-jianghan", DESKTOP)
    planner.page.goto("/p/")
    expect(planner.page.locator("#gaps tr[data-type='breakfast']")).to_be_visible()
    planner.check()
    planner.page.locator(f"path.cell-{cell}").click()
    lacks = planner.page.locator("#cell-missing")
    expect(lacks.locator("[data-type='breakfast']")).to_contain_text("早餐店")
    expect(lacks.locator("[data-type='breakfast']")).to_contain_text("步行")  # none near
    # what it has, with the nearest provider: the convenience store is within the walk
    expect(planner.page.locator(".cell-report")).to_contain_text("便利店")
    planner.check()

    planner.page.locator("#notice-here").click()
    title = unique("社区早餐点征集")
    planner.page.get_by_label("标题").fill(title)
    planner.page.get_by_label("内容").fill("本社区缺少早餐点，欢迎商户报名，居民可提意见。")
    shown = planner.page.locator(".audience-size")
    expect(shown).to_contain_text("位居民")
    planner.check()
    will_reach = int(shown.get_attribute("data-recipients"))
    assert will_reach >= 2  # 李奶奶 and 张先生 live a few minutes from here

    planner.page.get_by_role("button", name="发布通知").click()
    expect(planner.page.locator("#messages")).to_contain_text("通知已发布")
    expect(planner.page.locator("#notice-sent")).to_have_attribute(
        "data-recipients", str(will_reach))
    planner.check()

    # her notices page lists the notices around her home (her inbox gets it too, but after
    # 22:00 quiet hours hold it until the morning)
    li = people("resident-li")
    li.page.goto("/r/notices")
    expect(li.page.locator("main")).to_contain_text(title)
    li.check()


def test_an_audience_the_notify_service_refuses_is_shown_next_to_its_field(people,
                                                                          web_system):
    planner = people("planner-jianghan", DESKTOP)
    planner.page.goto("/p/notices")
    planner.page.get_by_label("标题").fill("停水通知")
    planner.page.get_by_label("内容").fill("明天上午停水。")
    planner.page.get_by_label("步行（分钟）").fill("90")
    with planner.page.expect_response(lambda r: r.request.method == "POST"
                                      and r.url.endswith("/p/notices")) as answer:
        planner.page.get_by_role("button", name="发布通知").click()
    assert answer.value.status == 422
    field = planner.page.locator(".field", has=planner.page.get_by_label("步行（分钟）"))
    expect(field.locator(".field-error")).to_have_text("请填写 1 到 60 之间的数。")
    planner.errors = [e for e in planner.errors if "422" not in e]
    planner.check()
