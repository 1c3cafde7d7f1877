"""Health probe for a service, which has no HTTP API: ``python -m services.probe catalog``.

Exit 0 when healthy, 1 (with the reason on stderr) when not. Kubernetes runs it as
- liveness, ``--local``: this process answers on its metrics port (its eventlet hub is not
  stuck); restarting the pod is the cure, so nothing outside the pod is checked;
- readiness (no flag): that, and the service answers its ``ping`` RPC through the broker —
  the broker is reachable and some replica of the service consumes its queue.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request

from services.common.config import setting
from services.run_service import SERVICE_CLASSES


def local_ok(port: int, timeout: float) -> str | None:
    """None if this pod's service answers on its metrics port, else why not."""
    if not port:
        return None  # no metrics port configured: nothing local to check
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as r:
            return None if r.status == 200 else f"metrics answered {r.status}"
    except OSError as exc:
        return f"metrics port {port}: {exc}"


def rpc_ok(service: str, amqp_uri: str, timeout: float) -> str | None:
    """None if the service answers ``ping`` over RPC within ``timeout``, else why not."""
    from nameko.standalone.rpc import ClusterRpcProxy

    try:
        with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=timeout) as rpc:
            answer = getattr(rpc, service).ping()
    except Exception as exc:  # any failure is "not ready", with its reason
        return f"ping {service}: {type(exc).__name__}: {exc}"
    return None if answer.get("ok") else f"ping {service} answered {answer!r}"


def probe(service: str, local_only: bool, timeout: float) -> str | None:
    problem = local_ok(setting(None, "METRICS_PORT"), timeout)
    if problem is None and not local_only:
        problem = rpc_ok(service, setting(None, "AMQP_URI"), timeout)
    return problem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service", choices=sorted(SERVICE_CLASSES))
    parser.add_argument("--local", action="store_true", help="liveness: this process only")
    parser.add_argument("--timeout", type=float, default=4.0, help="seconds per check")
    args = parser.parse_args(argv)
    problem = probe(args.service, args.local, args.timeout)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
