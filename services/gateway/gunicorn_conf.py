"""gunicorn settings for the gateway (threads: RPC calls block on I/O, not CPU)."""

from services.common.config import setting

bind = setting(None, "GATEWAY_BIND")
worker_class = "gthread"
workers = setting(None, "GATEWAY_WORKERS")
threads = setting(None, "GATEWAY_THREADS")
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
