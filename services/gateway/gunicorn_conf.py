"""gunicorn settings for the gateway (threads: RPC calls block on I/O, not CPU)."""

import os
import shutil
import tempfile

bind = os.environ.get("GATEWAY_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
# A request never waits on a service longer than GATEWAY_RPC_TIMEOUT; this is a backstop.
timeout = 30
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
