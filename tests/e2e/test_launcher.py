"""The launcher as `make run` starts it (``python -m services.launcher``), on its own vhost and
data directory: dev tokens stay off without --demo, live streams are capped per person and
freed when a client hangs up, Ctrl-C ends open streams and stops everything in seconds, and
no service outlives a launcher killed with SIGKILL."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from services.common.auth import TokenSettings, issue_token
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.launcher import ROOT, free_port
from tests.helpers import assert_error_shape, unique, wait_for

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")]


class Launched:
    """``python -m services.launcher`` in its own session, like a terminal would run it."""

    def __init__(self, tmp_path: Path, amqp_uri: str, args: list[str], env: dict[str, str]):
        self.data_dir = tmp_path / "data"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.tokens = TokenSettings(secret=secrets.token_urlsafe(48), public_key=None,
                                    algorithm="HS256", issuer="lifecircle", dev_tokens=False,
                                    ttl_seconds=3600)
        child_env = {k: v for k, v in os.environ.items() if k != "LIFECIRCLE_DEV_TOKENS"}
        child_env.update({
            "AMQP_URI": amqp_uri, "LIFECIRCLE_DATA_DIR": str(self.data_dir),
            "LIFECIRCLE_JWT_SECRET": self.tokens.secret, "GATEWAY_RATE_PER_SECOND": "0",
            "PYTHONUNBUFFERED": "1", **env})
        self.output = tmp_path / "launcher.out"
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.launcher", "--bind", f"127.0.0.1:{self.port}",
                 *args], cwd=ROOT, env=child_env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            wait_for(self._ready, timeout=120, interval=0.3, what="the launched system")
        except AssertionError:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"launcher exited: {self.output.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.base_url}/readyz", timeout=5).status_code == 200
        return False

    def headers(self, sub: str, role: str = "resident") -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.tokens, sub, role)}"}

    def children(self) -> list[int]:
        """Every live process started for this system (they all carry its data directory)."""
        marker = f"LIFECIRCLE_DATA_DIR={self.data_dir}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.proc.pid:
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if marker in environ and state != "Z":
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in self.children():  # only if the launcher failed to stop them
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Stream:
    """A live notification stream read frame by frame."""

    def __init__(self, launched: Launched, sub: str):
        self.response = requests.get(
            f"{launched.base_url}/api/v1/notifications/stream", stream=True, timeout=(5, 60),
            headers={**launched.headers(sub), "Accept": "text/event-stream"})
        self.status = self.response.status_code
        self.lines = self.response.iter_lines(decode_unicode=True) if self.status == 200 else None

    def next_event(self) -> dict | None:
        event: dict = {}
        for line in self.lines:
            if line == "":
                if event:
                    return event
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                event[name] = value
        return None  # the stream ended

    def until(self, kind: str) -> dict | None:
        while (event := self.next_event()) is not None:
            if event.get("event") == kind:
                return event
        return None

    def close(self) -> None:
        self.response.close()


def open_stream(launched: Launched, sub: str) -> Stream:
    """A stream that must open; retries while slots of earlier tests' hang-ups free up."""

    def attempt():
        stream = Stream(launched, sub)
        if stream.status == 200:
            return stream
        stream.close()
        return None

    return wait_for(attempt, timeout=30, interval=0.3, what="a stream slot")


STREAM_LIMITS = {
    "GATEWAY_WORKERS": "1",  # limits are per gateway process: one process makes them exact
    "NOTIFY_SSE_MAX_STREAMS": "3",
    "NOTIFY_SSE_MAX_PER_USER": "2",
    # Long enough that only the fixes under test can end or free a stream in time.
    "NOTIFY_SSE_HEARTBEAT_SECONDS": "300",
    "NOTIFY_SSE_LIFETIME_SECONDS": "600",
}


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    base = setting(None, "AMQP_URI")
    with temporary_vhost(base, f"lifecircle-launcher-{os.getpid()}") as uri:
        system = Launched(tmp_path_factory.mktemp("launched"), uri, [], STREAM_LIMITS)
        yield system
        system.stop()


def test_without_demo_the_launcher_serves_no_dev_tokens(launched):
    r = requests.post(f"{launched.base_url}/api/v1/auth/dev-token",
                      json={"sub": "anyone", "role": "admin"}, timeout=10)
    assert_error_shape(r, 404, "not_found")
    assert "dev tokens are ON" not in launched.output.read_text()


def test_a_third_stream_of_one_person_ends_their_oldest(launched):
    who = unique("resident")
    first, second = open_stream(launched, who), open_stream(launched, who)
    try:
        assert first.until("ready") and second.until("ready")
        third = open_stream(launched, who)
        bye = first.until("bye")
        assert bye is not None and '"reason":"replaced"' in bye["data"]
        assert third.until("ready")
        third.close()
    finally:
        first.close()
        second.close()


def test_another_person_can_open_a_stream_while_one_holds_the_maximum(launched):
    hog, other = unique("resident"), unique("resident")
    hogs = [open_stream(launched, hog) for _ in range(4)]  # more than they may hold
    try:
        theirs = Stream(launched, other)
        assert theirs.status == 200, theirs.response.text
        assert theirs.until("ready")
        theirs.close()
    finally:
        for s in hogs:
            s.close()


def test_a_stream_whose_client_hung_up_frees_its_slot_at_once(launched):
    # Fill the process (3): a person at their cap (2) and one more.
    holder, leaver, waiter = unique("resident"), unique("resident"), unique("resident")
    held = [open_stream(launched, holder), open_stream(launched, holder)]
    leaving = open_stream(launched, leaver)
    try:
        assert leaving.until("ready")
        refused = Stream(launched, waiter)
        assert refused.status == 503
        assert_error_shape(refused.response, 503, "too_many_streams")
        leaving.close()  # hang up; no heartbeat for minutes would reveal it

        def opened():
            attempt = Stream(launched, waiter)
            if attempt.status == 200:
                attempt.close()
                return True
            return False

        wait_for(opened, timeout=30, interval=0.5, what="a slot freed by the hang-up")
    finally:
        for s in held:
            s.close()


def test_ctrl_c_ends_open_streams_and_stops_everything(launched):
    """Runs last in this module: it stops the module's system."""
    stream = open_stream(launched, unique("resident"))
    assert stream.until("ready")
    assert launched.children()
    started = time.monotonic()
    launched.proc.send_signal(signal.SIGINT)
    bye = stream.until("bye")
    assert bye is not None and '"reason":"shutdown"' in bye["data"], bye
    launched.proc.wait(timeout=60)
    took = time.monotonic() - started
    wait_for(lambda: not launched.children(), timeout=30, what="every process to exit")
    print(f"\nCtrl-C with an open stream: the launcher stopped in {took:.1f}s")
    assert launched.proc.returncode == 0


def test_services_die_with_a_launcher_killed_by_sigkill(tmp_path):
    base = setting(None, "AMQP_URI")
    with temporary_vhost(base, f"lifecircle-sigkill-{os.getpid()}") as uri:
        # Dev tokens asked for explicitly: on, with the warning.
        system = Launched(tmp_path, uri, [], {"LIFECIRCLE_DEV_TOKENS": "1"})
        try:
            assert "dev tokens are ON" in system.output.read_text()
            r = requests.post(f"{system.base_url}/api/v1/auth/dev-token",
                              json={"sub": "demo", "role": "resident"}, timeout=10)
            assert r.status_code == 200, r.text
            assert len(system.children()) >= 6  # 4 services, gunicorn and its worker(s)
            system.proc.kill()
            system.proc.wait(timeout=10)
            wait_for(lambda: not system.children(), timeout=60, interval=0.2,
                     what="every service of the killed launcher to exit")
        finally:
            system.stop()
