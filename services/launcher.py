"""Runs the whole system on this machine: the four services and the gateway, each its own
process. ``make run`` uses it (``python -m services.launcher --demo``), and so do the
end-to-end and fault tests, so what they test is what a developer runs.

Every child dies with the launcher: on Linux the kernel sends it SIGTERM when the launcher
goes, however it goes (``kill -9`` included), so a second start never shares its queues with
ghosts of the first.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import logging.handlers
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from services import run_service
from services.common.config import setting

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("catalog", "orders", "dispatch", "notify")
BIN = Path(sys.executable).parent
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def die_with_parent(parent_pid: int) -> None:
    """Run in the child between fork and exec: ask the kernel for SIGTERM when the parent
    dies (kept across exec). If it already died in between, go now."""
    if _LIBC is None:
        return
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), signal.SIGTERM)


def dev_secret(data_dir: Path) -> str:
    """A per-installation secret for dev tokens, kept (outside git) with the data."""
    path = data_dir / "dev-jwt-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class System:
    def __init__(self, data_dir: Path, bind: str = "127.0.0.1:8000",
                 env: dict[str, str] | None = None):
        self.data_dir = Path(data_dir).absolute()
        self.bind = bind
        self.base_url = f"http://{bind}"
        self.log_dir = self.data_dir / "logs"
        self.procs: dict[str, subprocess.Popen] = {}
        # Each service's /metrics port (services/common/metrics.py); none unless given.
        self.metrics_ports: dict[str, int] = {}
        self.env = {
            **os.environ,
            "LIFECIRCLE_DATA_DIR": str(self.data_dir),
            "GATEWAY_BIND": bind,
            "PYTHONWARNINGS": "ignore",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if not self.env.get("LIFECIRCLE_JWT_SECRET") and not self.env.get(
                "LIFECIRCLE_JWT_PUBLIC_KEY"):
            self.env["LIFECIRCLE_JWT_SECRET"] = dev_secret(self.data_dir)

    def command(self, name: str) -> list[str]:
        if name == "gateway":
            return [str(BIN / "gunicorn"), "-c", str(ROOT / "services/gateway/gunicorn_conf.py"),
                    "services.gateway.wsgi:app"]
        return run_service.command(name)

    def metrics_url(self, name: str) -> str:
        if name == "gateway":
            return f"{self.base_url}/metrics"
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def start(self, name: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        env = dict(self.env)
        if name in self.metrics_ports:
            env["METRICS_PORT"] = str(self.metrics_ports[name])
        self.procs[name] = proc = subprocess.Popen(
            self.command(name), cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop children in order
            # Safe after fork even with threads about: it takes no lock and imports nothing.
            preexec_fn=lambda: die_with_parent(parent),
        )
        threading.Thread(target=copy_rotating, name=f"log-{name}", daemon=True, args=(
            proc.stdout, self.log_dir / f"{name}.log", int(setting(self.env, "LOG_MAX_BYTES")),
            int(setting(self.env, "LOG_BACKUPS")))).start()

    def start_all(self) -> None:
        for name in SERVICES:
            self.start(name)
        self.start("gateway")

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; "
                                       f"see {self.log_dir / (name + '.log')}")
            try:
                response = requests.get(f"{self.base_url}/readyz", timeout=5)
                if response.status_code == 200:
                    return
                last = response.text
            except requests.RequestException as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise RuntimeError(f"the system did not become ready in {timeout:.0f}s: {last}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the process and its children (gunicorn's workers) as a crash would."""
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)  # each child leads its own session (start_new_session)
            proc.wait(timeout=30)

    def stop(self, name: str, timeout: float = 15.0) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop_all(self, timeout: float = 15.0) -> None:
        # The gateway first, so no new work arrives; then every service drains at once.
        self.stop("gateway", timeout)
        running = [p for n, p in self.procs.items() if n != "gateway" and p.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def copy_rotating(stream, path: Path, max_bytes: int, backups: int) -> None:
    """A process's output into ``path``, rotated by size (``path.1`` ... ``path.<backups>``)."""
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes,
                                                   backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for line in iter(stream.readline, b""):
            handler.emit(logging.makeLogRecord(
                {"msg": line.decode("utf-8", "replace").rstrip("\n")}))
    finally:
        handler.close()
        stream.close()


_HANDED_OUT: set[int] = set()
_RANDOM = random.SystemRandom()  # not the module's generator, which test runners reseed


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a port the kernel hands out
    (bind to 0) can be taken in the meantime as the local end of any outgoing connection
    (a service's metrics port was once found taken while the system started)."""
    high = min(_ephemeral_low(), 65536) - 1
    for _ in range(200):
        port = _RANDOM.randint(max(10000, high - 20000), high)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def start_private(amqp_uri: str, data_dir: Path, extra_env: dict | None = None) -> System:
    """A whole system on a spare port with its own data, ready to serve (tests, benchmarks)."""
    env = {
        "AMQP_URI": amqp_uri,
        "LIFECIRCLE_DEV_TOKENS": "1",
        "LIFECIRCLE_JWT_SECRET": secrets.token_urlsafe(48),
        "OUTBOX_RELAY_SECONDS": "1",
        "GATEWAY_RATE_PER_SECOND": "0",
        **(extra_env or {}),
    }
    system = System(data_dir, f"127.0.0.1:{free_port()}", env)
    system.metrics_ports = {name: free_port() for name in SERVICES}
    system.start_all()
    try:
        system.wait_ready(90)
    except Exception:
        system.stop_all()
        raise
    return system


DEV_TOKEN_WARNING = """
WARNING: dev tokens are ON: anyone who can reach {url} can mint a token for any
         user and role, admin included (POST /api/v1/auth/dev-token). For a demo on this
         machine only; run without --demo (and without LIFECIRCLE_DEV_TOKENS=1) otherwise.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description="Run Lifecircle on this machine.")
    parser.add_argument("--demo", action="store_true", help="load the demo circle")
    parser.add_argument("--bind", default=os.environ.get("GATEWAY_BIND", "127.0.0.1:8000"))
    args = parser.parse_args()

    data_dir = Path(setting(None, "DATA_DIR")).absolute()
    # Dev tokens let anyone mint any role: on for the demo, otherwise only if the environment
    # asks explicitly.
    dev_tokens = args.demo or setting(None, "LIFECIRCLE_DEV_TOKENS")
    env = {"LIFECIRCLE_DEV_TOKENS": "1" if dev_tokens else "0",
           # a developer follows one order through every process: a line per request/event
           "LOG_LEVEL": os.environ.get("LOG_LEVEL", "info")}
    system = System(data_dir, args.bind, env)
    if dev_tokens:
        print(DEV_TOKEN_WARNING.format(url=system.base_url), file=sys.stderr, flush=True)

    def shutdown(*_args: object) -> None:
        print("\nstopping ...", flush=True)
        system.stop_all()
        print("stopped; the data stays in", data_dir, flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    print(f"starting services (data in {data_dir}, logs in {system.log_dir}) ...", flush=True)
    system.start_all()
    try:
        system.wait_ready()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        system.stop_all()
        sys.exit(1)
    if args.demo:
        from services import demo

        demo.load_and_explain(system.base_url, data_dir)
    else:
        print(f"Lifecircle is running at {system.base_url} (API docs: {system.base_url}/api/docs)")
    print("Ctrl-C stops everything.", flush=True)
    while True:
        for name, proc in system.procs.items():
            if proc.poll() is not None:
                print(f"{name} exited with {proc.returncode}; see {system.log_dir}/{name}.log",
                      flush=True)
                shutdown()
        time.sleep(1)


if __name__ == "__main__":
    main()
