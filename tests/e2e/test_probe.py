"""The probe Kubernetes runs for services (they have no HTTP API): healthy services pass it,
a service that is not there or a port nobody answers on fails it, with the reason."""

from __future__ import annotations

import subprocess
import sys

from services import probe
from services.launcher import ROOT, free_port


def run_probe(system, service: str, *flags: str) -> subprocess.CompletedProcess:
    env = {**system.env, "METRICS_PORT": str(system.metrics_ports[service])}
    return subprocess.run([sys.executable, "-m", "services.probe", service, *flags], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_every_running_service_passes_its_readiness_and_liveness_probes(system):
    for service in ("catalog", "orders", "dispatch", "notify"):
        for flags in ((), ("--local",)):
            done = run_probe(system, service, *flags)
            assert done.returncode == 0, (service, flags, done.stderr)


def test_the_probe_fails_for_a_service_nobody_serves_and_a_dead_metrics_port(system):
    problem = probe.rpc_ok("no_such_service", system.env["AMQP_URI"], timeout=3)
    assert problem and "no_such_service" in problem
    assert "metrics port" in probe.local_ok(free_port(), timeout=2)
