"""Make sure RabbitMQ is reachable: ``python -m services.common.broker ensure``.

If AMQP_URI points at this machine and nothing answers, start the local rabbitmq-server (as
installed by the distribution) and wait for it. A remote broker is never started, only checked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

from services.common.config import setting

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def broker_address(amqp_uri: str) -> tuple[str, int]:
    parsed = urlparse(amqp_uri.replace("pyamqp://", "amqp://", 1))
    return parsed.hostname or "127.0.0.1", parsed.port or 5672


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _rabbitmqctl(*args: str) -> bool:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    if not os.path.exists(ctl):
        return False
    done = subprocess.run([ctl, *args], capture_output=True, timeout=60)
    return done.returncode == 0


@contextlib.contextmanager
def temporary_vhost(amqp_uri: str, name: str):
    """A private virtual host for tests and benchmarks, so they never share queues with a
    running system. Falls back to the given URI where rabbitmqctl is not at hand."""
    if _rabbitmqctl("add_vhost", name) and _rabbitmqctl(
            "set_permissions", "-p", name, "guest", ".*", ".*", ".*"):
        try:
            yield amqp_uri.rstrip("/") + "/" + name
        finally:
            _rabbitmqctl("delete_vhost", name)
    else:
        yield amqp_uri


def ensure(amqp_uri: str, wait_seconds: float = 90.0) -> None:
    host, port = broker_address(amqp_uri)
    if reachable(host, port):
        return
    if host not in LOCAL_HOSTS:
        sys.exit(f"RabbitMQ at {host}:{port} is not reachable; check AMQP_URI")
    server = shutil.which("rabbitmq-server") or (
        "/usr/sbin/rabbitmq-server" if shutil.os.path.exists("/usr/sbin/rabbitmq-server") else None
    )
    if server is None:
        sys.exit("RabbitMQ is not running on this machine and rabbitmq-server is not installed "
                 "(apt-get install rabbitmq-server, or set AMQP_URI to a running broker)")
    print(f"starting RabbitMQ ({server} -detached) ...", flush=True)
    subprocess.run([server, "-detached"], check=False)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if reachable(host, port):
            # The port opens a moment before the broker accepts logins.
            time.sleep(2)
            print("RabbitMQ is up", flush=True)
            return
        time.sleep(0.5)
    sys.exit(f"RabbitMQ did not come up on {host}:{port} within {wait_seconds:.0f}s")


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        sys.exit("usage: python -m services.common.broker ensure")
    ensure(setting(None, "AMQP_URI"))
