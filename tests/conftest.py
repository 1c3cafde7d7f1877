"""Shared fixtures. RabbitMQ is real: each test session gets its own virtual host (when this
machine's rabbitmqctl is at hand) so tests never meet a running `make run` or each other."""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")

import os  # noqa: E402

import eventlet  # noqa: E402

# nameko's containers run under eventlet, as in production. The browser journeys
# (tests/browser) run in a pytest process of their own without it (LIFECIRCLE_TEST_EVENTLET=0,
# `make test-browser`): Playwright's sync API stalls under eventlet's patched modules.
if os.environ.get("LIFECIRCLE_TEST_EVENTLET", "1") != "0":
    eventlet.monkey_patch()

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from services.common.broker import temporary_vhost  # noqa: E402
from services.common.config import setting  # noqa: E402

BASE_AMQP = setting(None, "AMQP_URI")


@pytest.fixture(scope="session")
def amqp_uri():
    with temporary_vhost(BASE_AMQP, f"lifecircle-test-{os.getpid()}") as uri:
        yield uri


@pytest.fixture
def service_config(amqp_uri, tmp_path):
    """nameko config for a service under test: its own data directory, fast retries."""
    return {
        "AMQP_URI": amqp_uri,
        "DATA_DIR": str(tmp_path / "data"),
        "MONGO_URL": "",
        "EVENT_MAX_ATTEMPTS": 3,
        "EVENT_RETRY_BASE_MS": 50,
        "ORDER_ACCEPT_TIMEOUT_SECONDS": 600,
        "max_workers": 10,
        "serializer": "json",
    }


def start_system(amqp_uri: str, data_dir: Path, extra_env: dict | None = None):
    from services.launcher import start_private

    return start_private(amqp_uri, data_dir, extra_env)


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    """The whole system as real processes (4 services + gunicorn gateway), shared by e2e
    tests that do not break it. Its own virtual host: services in integration tests must
    never answer (or steal) its RPCs and events, nor it theirs."""
    with temporary_vhost(BASE_AMQP, f"lifecircle-e2e-{os.getpid()}") as uri:
        running = start_system(uri, tmp_path_factory.mktemp("system"))
        yield running
        running.stop_all()


@pytest.fixture(scope="session")
def api(system):
    from tests.helpers import ApiClient

    return ApiClient(system.base_url)
