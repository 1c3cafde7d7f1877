"""A private RabbitMQ node for tests that stop the broker: its own node name, ports, data and
Erlang cookie, so the shared node on 5672 is never touched.

It runs the distribution's own scripts from /usr/lib/rabbitmq (not the /usr/sbin wrappers,
which switch to the rabbitmq user). The node keeps its data directory across a stop and a
start, as a real broker restart does.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time
from pathlib import Path

from kombu import Connection

from services.launcher import free_port

SCRIPT_DIRS = ["/usr/lib/rabbitmq/bin", *sorted(glob.glob("/usr/lib/rabbitmq/lib/*/sbin"))]


def rabbit_script(name: str) -> str | None:
    for directory in SCRIPT_DIRS:
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK):
            return path
    return None


class PrivateBroker:
    def __init__(self, base: Path, name: str):
        self.base = Path(base)
        self.node = f"{name}@localhost"
        self.port = free_port()
        dist_port = free_port()
        for sub in ("home", "mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "enabled_plugins").write_text("[].\n")
        (self.base / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        self.env = {
            **os.environ,
            "HOME": str(self.base / "home"),  # the Erlang cookie lives here
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }
        self.uri = f"pyamqp://guest:guest@127.0.0.1:{self.port}//"
        self.pid: int | None = None

    @staticmethod
    def available() -> bool:
        return rabbit_script("rabbitmq-server") is not None and rabbit_script(
            "rabbitmqctl") is not None

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([rabbit_script("rabbitmqctl"), "-n", self.node, *args],
                              env=self.env, capture_output=True, text=True, timeout=timeout)

    def start(self, timeout: float = 90) -> float:
        """Start the node and wait until it takes logins; returns the seconds it took."""
        began = time.monotonic()
        subprocess.run([rabbit_script("rabbitmq-server"), "-detached"], env=self.env,
                       cwd=self.base, check=True, timeout=60)
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.accepts_logins():
                self.pid = int((self.base / "pid").read_text().strip())
                return time.monotonic() - began
            time.sleep(0.2)
        raise RuntimeError(f"private RabbitMQ {self.node} did not start; see {self.base}/log")

    def accepts_logins(self) -> bool:
        try:
            with Connection(self.uri, connect_timeout=1) as conn:
                conn.ensure_connection(max_retries=1, timeout=1)
                return True
        except Exception:  # not up yet
            return False

    def stop(self, timeout: float = 60) -> None:
        """Stop the node cleanly and make sure its process is gone."""
        pid = self.pid
        done = self.ctl("stop", timeout=timeout)
        deadline = time.monotonic() + timeout
        while pid is not None and alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid is not None and alive(pid):
            os.kill(pid, 9)
            raise RuntimeError(f"{self.node} did not stop ({done.stderr.strip()}); killed")
        self.pid = None

    def queues(self, vhost: str = "/") -> dict[str, int]:
        done = self.ctl("list_queues", "-p", vhost, "-q", "--no-table-headers",
                        "name", "messages")
        assert done.returncode == 0, done.stderr
        rows = (line.split("\t") for line in done.stdout.splitlines() if line.strip())
        return {row[0]: int(row[1]) for row in rows if len(row) == 2}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
