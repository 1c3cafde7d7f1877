"""Journey 5 (the dispatchers' part): two dispatchers assign the same technician at once; the
one who loses is told plainly that someone else was faster, on the job as it now stands."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.repair_helpers import cancel, open_repair

pytestmark = pytest.mark.browser

# 王师傅 is on shift all day, so these journeys do not depend on the hour they run at.
WANG = "tech-wang"


def two_desks_on(people, repair_ids: list[str], technician_id: str):
    desks = []
    for repair_id in repair_ids:
        desk = people("dispatcher-jianghan", DESKTOP)
        desk.page.goto(f"/d/repairs/{repair_id}")
        expect(desk.page.locator(f'.candidates tr[data-technician-id="{technician_id}"]')
               ).to_be_visible()
        desks.append(desk)
    return desks


def assign(desk, technician_id: str):
    row = desk.page.locator(f'.candidates tr[data-technician-id="{technician_id}"]')
    with desk.page.expect_response(lambda r: r.request.method == "POST") as answer:
        row.get_by_role("button").click()
    return answer.value.status


def test_the_dispatcher_who_loses_the_same_job_is_told_who_has_it(people, web_system):
    wang = web_system.demo["technicians"][WANG]
    repair_id = open_repair(web_system, "resident-zhang", "客厅插座没电", "electrical")
    first, second = two_desks_on(people, [repair_id, repair_id], wang)

    assign(first, wang)
    expect(first.page.locator("#job-status")).to_have_attribute("data-status", "assigned")
    expect(first.page.locator("#messages")).to_contain_text("已派单")
    first.check()

    # the second desk still shows the candidates it loaded, and clicks the same technician
    assert assign(second, wang) == 409
    message = second.page.locator("#lost-race")
    expect(message).to_contain_text("有人先一步了")
    expect(message).to_contain_text("另一位调度员已经把这个工单派给了王师傅")
    expect(second.page.locator("#job-status")).to_have_attribute("data-status", "assigned")
    expect(second.page.locator(".candidates")).to_have_count(0)  # nothing left to click
    second.errors = [e for e in second.errors if "409" not in e]
    second.check()

    cancel(web_system, "resident-zhang", repair_id)  # frees him for the other journeys


def test_the_dispatcher_who_loses_the_technician_to_another_job_is_told_to_choose_again(
        people, web_system):
    wang = web_system.demo["technicians"][WANG]
    one = open_repair(web_system, "resident-li", "卫生间灯不亮", "electrical")
    other = open_repair(web_system, "resident-zhang", "厨房插座跳闸", "electrical")
    first, second = two_desks_on(people, [one, other], wang)

    assign(first, wang)
    expect(first.page.locator("#job-status")).to_have_attribute("data-status", "assigned")

    assert assign(second, wang) == 409
    expect(second.page.locator("#lost-race")).to_contain_text("这位师傅刚被派去别的工单")
    expect(second.page.locator("#job-status")).to_have_attribute("data-status", "open")
    # the candidates are fresh: he is now among those left out, booked for the other job
    expect(second.page.locator(f'.candidates tr[data-technician-id="{wang}"]')).to_have_count(0)
    second.errors = [e for e in second.errors if "409" not in e]
    second.check()

    cancel(web_system, "resident-li", one)
    cancel(web_system, "resident-zhang", other)


def test_the_roster_shows_technicians_by_status_and_skill(people, web_system):
    desk = people("dispatcher-jianghan", DESKTOP)
    desk.page.goto("/d/roster")
    desk.page.get_by_label("工种").select_option("haircut_home")
    desk.page.get_by_role("button", name="显示").click()
    rows = desk.page.locator("#roster tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("刘师傅")
    expect(rows.first).to_have_attribute("data-status", "available")
    desk.check()
    desk.page.get_by_label("状态").select_option("offline")
    desk.page.get_by_role("button", name="显示").click()
    expect(desk.page.locator("#roster")).to_contain_text("没有符合条件的师傅")
    desk.check()
