"""Make sure RabbitMQ is reachable: ``python -m services.common.broker ensure``.

If AMQP_URI points at this machine and nothing answers, start the local rabbitmq-server (as
installed by the distribution) and wait for it. A remote broker is never started, only checked.

``python -m services.common.broker drop-classic-queues`` clears the way for quorum queues on a
developer's local broker (docs/operations.md, "RabbitMQ cluster"): it deletes Lifecircle's
classic queues that are empty and unused, and names those it keeps because they hold messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import unquote, urlparse

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


OUR_QUEUES = ("evt-", "rpc-catalog", "rpc-orders", "rpc-dispatch", "rpc-notify",
              "lifecircle.dead-letters")


def classic_queues_to_drop(listing: str) -> tuple[list[str], list[str]]:
    """From ``rabbitmqctl list_queues name type messages consumers`` output: our classic
    queues that may go (empty, no consumer), and those that must stay (not empty or in use)."""
    drop, keep = [], []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) != 4 or not fields[0].startswith(OUR_QUEUES) or fields[1] != "classic":
            continue
        name, _, messages, consumers = fields
        (drop if messages == "0" and consumers == "0" else keep).append(name)
    return drop, keep


def drop_classic_queues(amqp_uri: str) -> None:
    vhost = unquote(urlparse(amqp_uri).path.lstrip("/")) or "/"
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    listing = subprocess.run([ctl, "list_queues", "-q", "-p", vhost, "name", "type", "messages",
                              "consumers"], capture_output=True, text=True, timeout=60)
    if listing.returncode != 0:
        sys.exit(f"rabbitmqctl list_queues failed: {listing.stderr.strip()}")
    drop, keep = classic_queues_to_drop(listing.stdout)
    for name in drop:
        subprocess.run([ctl, "delete_queue", "-p", vhost, name], capture_output=True, timeout=60)
        print("deleted", name)
    for name in keep:
        print(f"kept {name}: it holds messages or has consumers; stop the services, let it "
              f"drain, and run this again", file=sys.stderr)


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
    if sys.argv[1:] == ["ensure"]:
        ensure(setting(None, "AMQP_URI"))
    elif sys.argv[1:] == ["drop-classic-queues"]:
        drop_classic_queues(setting(None, "AMQP_URI"))
    else:
        sys.exit("usage: python -m services.common.broker ensure|drop-classic-queues")
