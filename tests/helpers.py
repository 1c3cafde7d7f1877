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


OVERLOADED_PATIENCE = 60.0


def overloaded(response: requests.Response) -> bool:
    if response.status_code != 503:
        return False
    try:
        return response.json()["error"]["code"] == "overloaded"
    except (ValueError, KeyError, TypeError):
        return False


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
                headers: dict | None = None, retry_overloaded: bool = True,
                **kw: Any) -> requests.Response:
        """One request; a 503 ``overloaded`` is tried again after its Retry-After, as the
        docs tell clients to (operations.md, "Overload"), for up to OVERLOADED_PATIENCE
        seconds: a slow machine makes the saga shed orders, which is no test's concern
        unless it says ``retry_overloaded=False``."""
        headers = dict(headers or {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.token(*as_)}"
        timeout = kw.pop("timeout", 15)
        deadline = time.monotonic() + OVERLOADED_PATIENCE
        while True:
            response = self.session.request(method, f"{self.base_url}{path}",
                                            headers=headers, timeout=timeout, **kw)
            if not (retry_overloaded and overloaded(response)
                    and time.monotonic() < deadline):
                return response
            time.sleep(min(float(response.headers.get("Retry-After", 1)), 5.0))

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
