"""`make screenshots`: a PNG of every main page in docs/screens/ — phone size (375 px) for the
resident and the technician, desktop for the shopkeeper, the dispatcher, the planner and the
API docs — from a whole system with the demo circle, an order and repairs, in Debian's
Chromium.

    python -m tests.browser.screens --out docs/screens
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

import h3
from playwright.sync_api import sync_playwright

from services import demo
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.launcher import start_private
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE
from tests.helpers import ApiClient, wait_for

LI = ("resident-li", "resident")


def make_story(api: ApiClient, ids: dict) -> dict:
    """An order on its way and a repair with a technician coming, so pages have content."""
    home = demo.RESIDENTS["resident-li"]
    delivery = {"address": home["address"], "location": home["location"]}
    order = api.post("/api/v1/orders", as_=LI, headers={"Idempotency-Key": str(uuid.uuid4())},
                     json={"merchant_id": ids["merchants"]["merchant-canteen"],
                           "items": [{"product_id": ids["products"]["两荤一素套餐"],
                                      "quantity": 1}],
                           "delivery": delivery, "note": "少盐，谢谢"}).json()
    canteen = ("merchant-canteen", "merchant")
    wait_for(lambda: api.get(f"/api/v1/orders/{order['id']}", as_=LI).json()["status"]
             == "confirmed", what="order confirmed")
    api.post(f"/api/v1/orders/{order['id']}/accept", as_=canteen)
    second = api.post("/api/v1/orders", as_=("resident-zhang", "resident"),
                      headers={"Idempotency-Key": str(uuid.uuid4())},
                      json={"merchant_id": ids["merchants"]["merchant-canteen"],
                            "items": [{"product_id": ids["products"]["小米南瓜粥"],
                                       "quantity": 2}],
                            "delivery": delivery}).json()
    repair = api.post("/api/v1/repairs", as_=LI, headers={"Idempotency-Key": str(uuid.uuid4())},
                      json={"skill": "plumbing", "description": "厨房水龙头一直滴水",
                            **delivery}).json()
    dispatcher = ("dispatcher-jianghan", "dispatcher")
    api.post(f"/api/v1/repairs/{repair['id']}/assign", as_=dispatcher,
             json={"technician_id": ids["technicians"]["tech-wang"]})
    waiting = api.post("/api/v1/repairs", as_=("resident-zhang", "resident"),
                       headers={"Idempotency-Key": str(uuid.uuid4())},
                       json={"skill": "electrical", "description": "客厅插座没电",
                             **delivery}).json()
    return {"order": order["id"], "second_order": second["id"], "repair": repair["id"],
            "open_repair": waiting["id"]}


def shoot(base_url: str, ids: dict, story: dict, out: Path) -> list[Path]:
    canteen = ids["merchants"]["merchant-canteen"]
    pages = [
        (None, PHONE, "/signin", "signin"),
        ("resident-li", PHONE, "/r/", "resident-nearby"),
        ("resident-li", PHONE, "/r/search?q=鸡蛋", "resident-search"),
        ("resident-li", PHONE, f"/r/shops/{ids['merchants']['merchant-wang']}",
         "resident-shop-by-weight"),
        ("resident-li", PHONE, f"/r/shops/{canteen}", "resident-shop"),
        ("resident-li", PHONE, "/r/basket", "resident-basket"),
        ("resident-li", PHONE, f"/r/orders/{story['order']}", "resident-order"),
        ("resident-li", PHONE, "/r/repairs/new", "resident-repair-new"),
        ("resident-li", PHONE, f"/r/repairs/{story['repair']}", "resident-repair"),
        ("resident-li", PHONE, "/inbox", "resident-inbox"),
        ("resident-li", PHONE, "/r/notices", "resident-notices"),
        ("resident-li", PHONE, "/settings", "resident-settings"),
        ("resident-zhang", PHONE, f"/r/orders/{story['order']}", "resident-not-found"),
        # issue 15: the market's receipt (public), recycling, the market manager
        (None, PHONE, f"/receipt/{ids['market']['receipt']}", "receipt"),
        ("resident-zhang", PHONE, "/r/recycling", "resident-recycling"),
        ("merchant-recycle", DESKTOP, "/shop/recycling", "recycling-point"),
        ("manager-minyi", DESKTOP, "/m/", "market-stalls"),
        ("manager-minyi", DESKTOP, "/m/mismatches", "market-mismatches"),
        ("merchant-canteen", DESKTOP, f"/shop/?m={canteen}", "shop-orders"),
        ("merchant-canteen", DESKTOP, "/shop/goods", "shop-goods"),
        ("merchant-canteen", DESKTOP, f"/shop/goods/{ids['products']['两荤一素套餐']}",
         "shop-product"),
        ("merchant-canteen", DESKTOP, "/shop/profile", "shop-profile"),
        ("merchant-canteen", PHONE, f"/shop/?m={canteen}", "shop-orders-phone"),
        ("dispatcher-jianghan", DESKTOP, "/d/", "dispatcher-board"),
        ("dispatcher-jianghan", DESKTOP, f"/d/repairs/{story['open_repair']}",
         "dispatcher-candidates"),
        ("dispatcher-jianghan", DESKTOP, "/d/roster", "dispatcher-roster"),
        ("dispatcher-jianghan", DESKTOP, "/d/stats", "dispatcher-stats"),
        ("tech-wang", PHONE, "/t/", "technician-jobs"),
        ("tech-wang", PHONE, f"/t/jobs/{story['repair']}", "technician-job"),
        ("planner-jianghan", DESKTOP, "/p/", "planner-coverage"),
        ("planner-jianghan", DESKTOP, "/p/notices?lat=30.5803&lng=114.2705", "planner-notice"),
        (None, DESKTOP, "/api/docs", "api-docs"),
    ]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts: dict = {}
        for sub, viewport, path, name in pages:
            key = (sub, viewport["width"])
            if key not in contexts:
                ctx = browser.new_context(base_url=base_url, viewport=viewport,
                                          locale="zh-CN", timezone_id="Asia/Shanghai")
                page = ctx.new_page()
                if sub:
                    page.goto("/signin")
                    page.click(f'button[data-sub="{sub}"]')
                    page.wait_for_load_state()
                contexts[key] = page
            page = contexts[key]
            if name == "resident-basket":
                page.goto(f"/r/shops/{ids['merchants']['merchant-wang']}")
                item = page.locator(f'[data-product="{ids["products"]["本地上海青"]}"]')
                item.get_by_label("重量（克）").fill("350")
                item.get_by_role("button").click()
                eggs = page.locator(f'[data-product="{ids["products"]["土鸡蛋"]}"]')
                eggs.get_by_role("button").click()
            page.goto(path)
            page.wait_for_load_state("networkidle" if name == "api-docs" else "load")
            page.wait_for_timeout(700)  # maps and htmx parts settle
            if name == "planner-coverage":  # a chosen cell: what it lacks, beside the map
                home = demo.RESIDENTS["resident-li"]["location"]
                page.locator(f"path.cell-{h3.latlng_to_cell(home['lat'], home['lng'], 8)}").click()
                page.locator("#cell-missing").wait_for()
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=name != "api-docs")
            written.append(target)
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screens")
    args = parser.parse_args()
    base = setting(None, "AMQP_URI")
    with temporary_vhost(base, f"lifecircle-screens-{os.getpid()}") as uri, \
            tempfile.TemporaryDirectory() as tmp:
        system = start_private(uri, Path(tmp))
        try:
            ids = demo.load(system.base_url, Path(tmp))
            story = make_story(ApiClient(system.base_url), ids)
            for path in shoot(system.base_url, ids, story, Path(args.out)):
                print(path)
        finally:
            system.stop_all()


if __name__ == "__main__":
    main()
