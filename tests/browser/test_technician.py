"""The technician's own settings on the phone: going offline and back, and sharing where
they are from the phone's location or, where the phone cannot tell, by typing it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import ApiClient

pytestmark = pytest.mark.browser

BARBER = "barber-liu"  # a haircut-only technician: no other journey sends him anywhere


def me(web_system) -> dict:
    return ApiClient(web_system.base_url).get("/api/v1/technicians/me",
                                              as_=(BARBER, "technician")).json()


def test_a_technician_goes_offline_and_back_and_shares_the_phones_location(people,
                                                                           web_system):
    liu = people(BARBER)
    liu.context.grant_permissions(["geolocation"])
    liu.context.set_geolocation({"latitude": 30.5791, "longitude": 114.2688})
    liu.page.goto("/t/")
    liu.page.get_by_role("button", name="停止接单（下线）").click()
    expect(liu.page.locator("#my-status")).to_have_attribute("data-status", "offline")
    assert me(web_system)["status"] == "offline"
    liu.check()
    liu.page.get_by_role("button", name="开始接单").click()
    expect(liu.page.locator("#my-status")).to_have_attribute("data-status", "available")
    liu.check()

    liu.page.get_by_role("button", name="使用手机定位").click()
    expect(liu.page.locator("#messages")).to_contain_text("位置已共享")
    liu.check()
    where = me(web_system)["location"]
    assert (round(where["lat"], 4), round(where["lng"], 4)) == (30.5791, 114.2688)


def test_without_the_phones_location_the_place_is_typed_and_checked(people, web_system):
    liu = people(BARBER)  # no geolocation permission: the typed place is the way
    liu.page.goto("/t/")
    liu.page.get_by_label("纬度").fill("三十")
    with liu.page.expect_response(lambda r: r.request.method == "POST") as answer:
        liu.page.get_by_role("button", name="共享这个位置").click()
    assert answer.value.status == 422
    field = liu.page.locator(".field", has=liu.page.get_by_label("纬度"))
    expect(field.locator(".field-error")).to_have_text("请填写数字。")
    liu.errors = [e for e in liu.errors if "422" not in e]
    liu.check()
    liu.page.get_by_label("纬度").fill("30.5801")
    liu.page.get_by_label("经度").fill("114.2701")
    liu.page.get_by_role("button", name="共享这个位置").click()
    expect(liu.page.locator("#messages")).to_contain_text("位置已共享")
    assert me(web_system)["location"] == {"lat": 30.5801, "lng": 114.2701}
    liu.check()
