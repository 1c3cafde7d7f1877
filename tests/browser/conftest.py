"""Browser journeys: Debian's Chromium (never a downloaded browser) driven by
pytest-playwright against a whole running system with the demo circle loaded.

The journeys get their own system (own vhost and data): the demo circle's people and shops
must exist exactly once, and the e2e tests load the demo into the shared system themselves.
Every person's browser context refuses requests that would leave 127.0.0.1 and records
console errors; ``Person.check`` asserts none happened and runs axe-core on the page.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import eventlet
import pytest
from playwright.sync_api import expect

from services import demo
from services.common.broker import temporary_vhost
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE  # noqa: F401
from tests.conftest import BASE_AMQP, start_system

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
# The accessibility rules the journeys hold every page to: labels, names and contrast.
AXE_RULES = ["label", "color-contrast", "button-name", "link-name", "select-name",
             "html-has-lang", "document-title", "image-alt"]
LOCAL_HOSTS = ("127.0.0.1",)
# Live changes arrive by the stream or, at the latest, the next poll (WEB_POLL_SECONDS): wait
# for them with a deadline well past that, on a loaded 2-core machine.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(config, items):
    # Playwright's sync API stalls under eventlet (tests/conftest.py patches unless told not
    # to): in a mixed run these are skipped, and `make test-browser` runs them on their own.
    if eventlet.patcher.is_monkey_patched("socket"):
        skip = pytest.mark.skip(reason="browser journeys run in their own process: "
                                       "make test-browser (LIFECIRCLE_TEST_EVENTLET=0)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make browser-deps` installs Debian's chromium")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def web_system(tmp_path_factory):
    with temporary_vhost(BASE_AMQP, f"lifecircle-web-{os.getpid()}") as uri:
        data = tmp_path_factory.mktemp("web-system")
        running = start_system(uri, data)
        try:
            running.demo = demo.load(running.base_url, data)
            # Residents' default quiet hours (22:00-07:00 in the city) hold their non-urgent
            # messages; the journeys must not depend on the hour they run at.
            client = demo.Client(running.base_url)
            for sub in demo.RESIDENTS:
                client.call("PUT", "/api/v1/me/notification-preferences", sub, "resident",
                            json={"quiet_hours": None})
            yield running
        finally:
            running.stop_all()


class Person:
    """One person's browser: a context of their own, signed in through the sign-in page."""

    def __init__(self, browser, base_url: str, sub: str | None, viewport: dict):
        self.base_url = base_url
        self.context = browser.new_context(base_url=base_url, viewport=viewport,
                                           locale="zh-CN", timezone_id="Asia/Shanghai")
        self.context.set_default_timeout(20_000)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        if sub:
            self.sign_in(sub)

    def _only_local(self, route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith("data:") or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def sign_in(self, sub: str) -> None:
        self.page.goto("/signin")
        self.page.click(f'button[data-sub="{sub}"]')
        self.page.wait_for_load_state()

    def mark(self) -> None:
        """Mark the loaded page; ``same_page`` is then true only if it was never reloaded."""
        self.page.evaluate("window.__journeyMark = 'kept'")

    def same_page(self) -> bool:
        return self.page.evaluate("window.__journeyMark === 'kept'")

    def accessibility(self) -> list[dict]:
        self.page.evaluate(AXE)
        result = self.page.evaluate(
            "rules => axe.run(document, {runOnly: {type: 'rule', values: rules}})", AXE_RULES)
        return [{"rule": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"]]

    def check(self) -> None:
        """The page is accessible; nothing failed in the console; nothing left 127.0.0.1."""
        assert self.accessibility() == [], self.page.url
        assert self.errors == [], self.errors
        assert self.outside == [], self.outside


@pytest.fixture
def people(browser, web_system):
    made: list[Person] = []

    def person(sub: str | None, viewport: dict = PHONE) -> Person:
        made.append(Person(browser, web_system.base_url, sub, viewport))
        return made[-1]

    yield person
    for p in made:
        p.context.close()
