"""Journey 3: 李奶奶 reports a leaking tap on her phone; the dispatcher sees it arrive on the
board, opens the candidates and assigns the best one; the technician accepts, arrives and
completes with the code her page shows; she rates the job."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.repair_helpers import assign_best, cancel, open_repair, technician_sub
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser

LI = "resident-li"
# A live part refreshes when the stream says so, and at least every WEB_POLL_SECONDS (5 s):
# quiet hours (22:00-07:00) hold a resident's messages, and then only the poll is left.
LIVE = 15_000


def test_a_leaking_tap_is_reported_assigned_fixed_with_her_code_and_rated(people, web_system):
    desk = people("dispatcher-jianghan", DESKTOP)
    desk.page.goto("/d/")
    desk.mark()
    expect(desk.page.locator(".map .leaflet-interactive").first).to_be_visible()
    desk.check()

    li = people(LI)
    li.page.goto("/r/repairs/new")
    li.page.get_by_label("问题描述").fill("厨房水龙头一直漏水")
    li.page.get_by_role("button", name="请师傅上门").click()
    expect(li.page).to_have_url(re.compile(r"/r/repairs/rep_[0-9a-f]{32}"))
    repair_id = li.page.url.split("?")[0].rsplit("/", 1)[1]
    li.mark()
    li.check()

    # the board shows it among the open jobs without being reloaded
    card = desk.page.locator(f'#board-open [data-repair-id="{repair_id}"]')
    expect(card).to_contain_text("水管疏通", timeout=LIVE)
    expect(card).to_contain_text("民意街12号")
    assert desk.same_page()
    desk.check()

    card.get_by_role("link").click()
    best = desk.page.locator(".candidates tbody tr").first
    expect(best).to_contain_text("分钟")  # the ETA, and the reasons
    expect(best).to_contain_text("手上没有工单")
    desk.check()
    technician_id = best.get_attribute("data-technician-id")
    name = best.locator("td").nth(1).inner_text()
    best.get_by_role("button").click()
    expect(desk.page.locator("#job-status")).to_have_attribute("data-status", "assigned")
    expect(desk.page.locator("#job-technician")).to_have_text(name)
    desk.check()

    # her page follows: the technician's name
    expect(li.page.locator("#technician")).to_have_text(name, timeout=LIVE)

    tech = people(technician_sub(web_system, technician_id))
    tech.page.goto("/t/")
    job = tech.page.locator(f'#my-jobs [data-repair-id="{repair_id}"]')
    expect(job).to_have_attribute("data-status", "assigned")
    tech.check()
    job.get_by_role("link").click()
    tech.page.get_by_role("button", name="接单").click()
    expect(tech.page.locator("#job-status")).to_have_attribute("data-status", "accepted")
    tech.check()
    tech.page.get_by_role("button", name="我已到达").click()
    expect(tech.page.locator("#job-status")).to_have_attribute("data-status", "arrived")

    # the code she is to give at the door appears on her open page
    code = li.page.locator("#completion-code")
    expect(code).to_have_text(re.compile(r"^\d{6}$"), timeout=LIVE)
    assert li.same_page()
    li.check()

    tech.page.get_by_label("居民的完工码（6 位数字）").fill(code.inner_text())
    tech.page.get_by_label("做了什么").fill("更换水龙头阀芯")
    tech.page.get_by_label("用了哪些配件（用逗号分隔）").fill("阀芯，生料带")
    tech.check()
    tech.page.get_by_role("button", name="完工", exact=True).click()
    expect(tech.page.locator("#job-status")).to_have_attribute("data-status", "completed")
    expect(tech.page.locator("main")).to_contain_text("阀芯, 生料带")
    tech.check()

    expect(li.page.locator("#repair-status")).to_have_attribute("data-status", "completed",
                                                                timeout=LIVE)
    li.page.get_by_label("服务怎么样？（1-5星）").select_option("5")
    li.page.get_by_role("button", name="评价").click()
    expect(li.page.locator("#messages")).to_contain_text("感谢您的评价")
    li.check()

    desk.page.goto(f"/d/repairs/{repair_id}")
    expect(desk.page.locator("#job-status")).to_have_attribute("data-status", "rated")
    desk.check()

    # today's figures count her job: it arrived (within 15 minutes: he came at once)
    desk.page.get_by_role("link", name="今日数据").click()
    plumbing = desk.page.locator('#stats tr[data-skill="plumbing"]')
    expect(plumbing).to_contain_text("水管疏通")
    assert int(plumbing.locator("td").nth(2).inner_text()) >= 1  # arrived
    bar = desk.page.locator('svg.bars rect[data-skill="plumbing"]')
    assert int(bar.get_attribute("width")) > 0
    desk.check()


def test_a_wrong_code_is_shown_next_to_the_code_field(people, web_system):
    repair_id = open_repair(web_system, "resident-zhang", "插座没电了", "electrical")
    tech = people(assign_best(web_system, repair_id))
    tech.page.goto(f"/t/jobs/{repair_id}")
    tech.page.get_by_role("button", name="接单").click()
    tech.page.get_by_role("button", name="我已到达").click()
    tech.page.get_by_label("居民的完工码（6 位数字）").fill("12")
    tech.page.get_by_label("做了什么").fill("检查线路")
    with tech.page.expect_response(lambda r: r.request.method == "POST") as answer:
        tech.page.get_by_role("button", name="完工", exact=True).click()
    assert answer.value.status == 422
    field = tech.page.locator(".field", has=tech.page.get_by_label("居民的完工码（6 位数字）"))
    expect(field.locator(".field-error")).to_be_visible()
    expect(tech.page.get_by_label("做了什么")).to_have_value("检查线路")
    expect(tech.page.locator("#job-status")).to_have_attribute("data-status", "arrived")
    tech.errors = [e for e in tech.errors if "422" not in e]
    tech.check()
    tech.page.get_by_label("无法修好的原因").fill("需要换整个插座面板，明天带配件再来")
    tech.page.get_by_role("button", name="修不了").click()
    expect(tech.page.locator("#messages")).to_contain_text("工单已退回调度台")
    expect(tech.page.locator(f'#my-jobs [data-repair-id="{repair_id}"]')).to_have_count(0)
    tech.check()
    reopened = ApiClient(web_system.base_url).get(
        f"/api/v1/repairs/{repair_id}", as_=("dispatcher-jianghan", "dispatcher")).json()
    assert reopened["status"] == "open"
    cancel(web_system, "resident-zhang", repair_id)
