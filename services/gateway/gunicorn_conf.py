"""gunicorn settings for the gateway (threads: RPC calls block on I/O, not CPU)."""

import os
import shutil
import tempfile

from services.common.config import setting

bind = setting(None, "GATEWAY_BIND")
worker_class = "gthread"
workers = setting(None, "GATEWAY_WORKERS")
threads = setting(None, "GATEWAY_THREADS")
# A request never waits on a service longer than GATEWAY_RPC_TIMEOUT; this is a backstop.
timeout = 30
# Requests end within the RPC timeout and live streams are ended at once when a worker stops
# (services/gateway/worker_hooks.py), so stopping takes seconds; this is the backstop.
graceful_timeout = 10
# Longer than a load balancer's usual idle timeout (60 s): the side that closes an idle
# keep-alive connection must be the client, or a request can be sent into a closing socket.
keepalive = 75
# Request logs are written by the app as JSON lines; gunicorn logs only its own events.
accesslog = None
errorlog = "-"
loglevel = "warning"
limit_request_line = 8190
limit_request_fields = 100


def post_worker_init(worker):
    # Imported here: the app (and its import path) is loaded by now.
    from services.gateway.worker_hooks import post_worker_init as install

    install(worker)
# Metrics from every worker (services/gateway/metrics.py): prometheus-client's multiprocess mode
# keeps them in files, in a directory of this gunicorn's own unless the environment names one.
# It must be set before any worker imports prometheus_client, hence here in the master.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lifecircle-gateway-metrics-")
    _own_metrics_dir = True
else:
    _own_metrics_dir = False


def on_starting(server):
    # Files of a previous run would be summed into this one's counters.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
