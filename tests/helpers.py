"""Small helpers for tests that talk HTTP to a running system."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05,
             what: str = "condition") -> Any:
    """Poll until ``check()`` returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class ApiClient:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self._tokens: dict[tuple[str, str], str] = {}

    def token(self, sub: str, role: str) -> str:
        key = (sub, role)
        if key not in self._tokens:
            r = self.session.post(f"{self.base_url}/api/v1/auth/dev-token",
                                  json={"sub": sub, "role": role}, timeout=10)
            assert r.status_code == 200, r.text
            self._tokens[key] = r.json()["access_token"]
        return self._tokens[key]

    def request(self, method: str, path: str, as_: tuple[str, str] | None = None,
                headers: dict | None = None, **kw: Any) -> requests.Response:
        headers = dict(headers or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.token(*as_)}"
        return self.session.request(method, f"{self.base_url}{path}", headers=headers,
                                    timeout=kw.pop("timeout", 15), **kw)

    def get(self, path: str, as_=None, **kw) -> requests.Response:
        return self.request("GET", path, as_, **kw)

    def post(self, path: str, as_=None, **kw) -> requests.Response:
        return self.request("POST", path, as_, **kw)

    def patch(self, path: str, as_=None, **kw) -> requests.Response:
        return self.request("PATCH", path, as_, **kw)


def assert_error_shape(response: requests.Response, status: int, code: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error
