"""Shared fixtures. RabbitMQ is real: each test session gets its own virtual host (when this
machine's rabbitmqctl is at hand) so tests never meet a running `make run` or each other."""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=".*Eventlet is deprecated.*")

import eventlet  # noqa: E402

eventlet.monkey_patch()  # nameko's containers run under eventlet, as in production

import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from services.common.config import setting  # noqa: E402

BASE_AMQP = setting(None, "AMQP_URI")


def _rabbitmqctl(*args: str) -> bool:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not os.path.exists(ctl):
        return False
    done = subprocess.run([ctl, *args], capture_output=True, timeout=60)
    return done.returncode == 0


@pytest.fixture(scope="session")
def amqp_uri():
    vhost = f"lifecircle-test-{os.getpid()}"
    if _rabbitmqctl("add_vhost", vhost) and _rabbitmqctl(
            "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"):
        yield BASE_AMQP.rstrip("/") + "/" + vhost
        _rabbitmqctl("delete_vhost", vhost)
    else:
        yield BASE_AMQP


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_system(amqp_uri: str, data_dir: Path, extra_env: dict | None = None):
    from services.launcher import System

    env = {
        "AMQP_URI": amqp_uri,
        "LIFECIRCLE_DEV_TOKENS": "1",
        "LIFECIRCLE_JWT_SECRET": secrets.token_urlsafe(48),
        "OUTBOX_RELAY_SECONDS": "1",
        "GATEWAY_RATE_PER_SECOND": "0",  # load tests set their own
        **(extra_env or {}),
    }
    system = System(data_dir, f"127.0.0.1:{free_port()}", env)
    system.start_all()
    try:
        system.wait_ready(90)
    except Exception:
        system.stop_all()
        raise
    return system


@pytest.fixture(scope="session")
def system(amqp_uri, tmp_path_factory):
    """The whole system as real processes (4 services + gunicorn gateway), shared by e2e
    tests that do not break it."""
    running = start_system(amqp_uri, tmp_path_factory.mktemp("system"))
    yield running
    running.stop_all()


@pytest.fixture(scope="session")
def api(system):
    from tests.helpers import ApiClient

    return ApiClient(system.base_url)
