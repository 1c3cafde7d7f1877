"""What one nameko RPC hop costs from a gateway thread, by publisher option, in one run.

    .venv/bin/python -m bench.rpc_hop [--calls 1500] [--threads 8]

Starts a trivial nameko service (echo) on a private virtual host and calls it from standalone
cluster proxies (one per thread, as the gateway does) with: nameko's defaults (persistent
request, broker confirm), a transient request with confirm (no fsync on the durable queue),
and a transient request without confirm. Prints calls/s and p50/p99 per option.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from bench.stats import print_table, summary
from services.common.broker import temporary_vhost
from services.common.config import setting
from services.gateway.rpc import proxy_factory
from services.launcher import BIN, ROOT


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value


OPTIONS = {
    "nameko default (persistent, confirm)": None,
    "transient request, confirm": {"delivery_mode": 1},
    "transient request, no confirm": {"delivery_mode": 1, "use_confirms": False},
}


def drive(uri: str, options: dict | None, calls: int, threads: int) -> tuple[list, float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def run() -> None:
        runner = (ClusterRpcProxy({"AMQP_URI": uri}, timeout=10) if options is None
                  else proxy_factory({"AMQP_URI": uri}, 10, options))
        proxy = runner.start()
        proxy.bench_echo.echo(value=1)  # warm
        mine = []
        for _ in range(calls // threads):
            began = time.perf_counter()
            proxy.bench_echo.echo(value={"id": "ord_x", "status": "confirmed"})
            mine.append(time.perf_counter() - began)
        runner.stop()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with temporary_vhost(setting(None, "AMQP_URI"), f"lifecircle-bench-{os.getpid()}") as uri:
        service = subprocess.Popen(
            [str(BIN / "nameko"), "run", "--broker", uri, "bench.rpc_hop:EchoService"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        try:
            time.sleep(0.5)
            deadline = time.monotonic() + 30
            while True:  # wait until the service answers
                try:
                    with ClusterRpcProxy({"AMQP_URI": uri}, timeout=2) as proxy:
                        proxy.bench_echo.echo(value=0)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
            rows = []
            for threads in (1, args.threads):
                for name, options in OPTIONS.items():
                    latencies, elapsed = drive(uri, options, args.calls, threads)
                    rows.append(summary(f"{name}, {threads} thr", latencies, elapsed))
            print_table(rows, baseline=f"nameko default (persistent, confirm), "
                                       f"{args.threads} thr")
        finally:
            service.terminate()
            service.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
