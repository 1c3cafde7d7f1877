"""Calling services from the gateway: one long-lived nameko RPC proxy per gateway thread
(never a connection per request), a timeout on every call, and a bound on calls in flight so
an overloaded gateway sheds load quickly instead of queueing without limit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.amqp.publish import Publisher
from nameko.constants import DEFAULT_TRANSPORT_OPTIONS
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.rpc import MethodProxy, ServiceProxy
from nameko.standalone.rpc import (
    ClusterProxy,
    PollingQueueConsumer,
    SingleThreadedReplyListener,
    StandaloneProxyBase,
)

from services.common.errors import AppError
from services.common.logs import get_logger
from services.gateway.errors import ApiError

log = get_logger()

TRANSPORT_ERRORS = (OSError, socket.timeout, ConnectionError, AMQPError, KombuError)

# Requests go transient: a persistent message on the durable rpc queue waits for an fsync
# before the broker confirms it, which doubled the cost of a read (bench/rpc_hop.py). A
# request lost in a broker restart times out and is retried by the client (commands carry
# an Idempotency-Key); the confirm stays, since UnknownService relies on it.
PUBLISH_OPTIONS = {"delivery_mode": 1}


# While the broker is down a call fails at once (503) instead of sleeping in kombu's reconnect
# loops (nameko's defaults: 2, 3 or 5 s; docs/reliability.md). One immediate reconnect is kept,
# so a pooled connection the broker dropped before it came back is renewed within the call.
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}


class _FailFastPublisher(Publisher):
    # Renewing a pooled connection (kombu's default_channel): one try, no sleep.
    transport_options = {**DEFAULT_TRANSPORT_OPTIONS, "max_retries": 0}
    retry_policy = RETRY_POLICY


class _FailFastMethodProxy(MethodProxy):
    publisher_cls = _FailFastPublisher


class _FailFastServiceProxy(ServiceProxy):
    def __getattr__(self, name: str) -> Any:
        return _FailFastMethodProxy(self.worker_ctx, self.service_name, name,
                                    self.reply_listener, **self.options)


class _FailFastConsumer(PollingQueueConsumer):
    def _setup_consumer(self) -> None:
        # kombu's implicit connect (Connection.channel) retries once after a 2 s sleep.
        self.connection.ensure_connection(max_retries=0)
        super()._setup_consumer()


class _FailFastReplyListener(SingleThreadedReplyListener):
    def __init__(self, timeout: float | None = None):
        super().__init__(timeout=timeout)
        self.queue_consumer = _FailFastConsumer(timeout=timeout)


class _ClusterProxyWithOptions(ClusterProxy):
    def __init__(self, worker_ctx: Any, reply_listener: Any, options: dict[str, Any]):
        super().__init__(worker_ctx, reply_listener)
        self._options = options

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._proxies:
            self._proxies[name] = _FailFastServiceProxy(self._worker_ctx, name,
                                                        self._reply_listener, **self._options)
        return self._proxies[name]


class _ClusterRpcProxyWithOptions(StandaloneProxyBase):
    """nameko's ClusterRpcProxy, passing publisher options to every call (nameko's own
    standalone cluster proxy does not), failing fast while the broker is unreachable."""

    def __init__(self, config: dict, timeout: float, options: dict[str, Any]):
        super().__init__(config, timeout=timeout, reply_listener_cls=_FailFastReplyListener)
        self._proxy = _ClusterProxyWithOptions(self._worker_ctx, self._reply_listener, options)


def proxy_factory(config: dict, timeout: float,
                  options: dict[str, Any] | None = None) -> StandaloneProxyBase:
    """A standalone cluster proxy (``.start()`` it) that publishes with ``options``."""
    return _ClusterRpcProxyWithOptions(config, timeout,
                                       PUBLISH_OPTIONS if options is None else options)


class RpcClient:
    def __init__(self, amqp_uri: str, timeout: float, max_in_flight: int):
        self.config = {"AMQP_URI": amqp_uri}
        self.timeout = timeout
        self._local = threading.local()
        self._slots = threading.BoundedSemaphore(max_in_flight)

    def _proxy(self, timeout: float) -> Any:
        proxies = getattr(self._local, "proxies", None)
        if proxies is None:
            proxies = self._local.proxies = {}
        proxy = proxies.get(timeout)
        if proxy is None:
            runner = proxy_factory(self.config, timeout)
            proxy = proxies[timeout] = (runner, runner.start())
        return proxy[1]

    def _reset(self) -> None:
        for runner, _ in (getattr(self._local, "proxies", None) or {}).values():
            try:
                runner.stop()
            except Exception:  # the connection is already broken; drop it
                pass
        self._local.proxies = {}

    def call(self, service: str, method: str, timeout: float | None = None, **kwargs: Any):
        if not self._slots.acquire(timeout=0.2):
            raise ApiError(503, "overloaded", "the service is busy; please retry shortly",
                           headers={"Retry-After": "1"})
        try:
            proxy = self._proxy(timeout or self.timeout)
            return getattr(getattr(proxy, service), method)(**kwargs)
        except AppError:
            raise
        except RpcTimeout:
            self._reset()  # a late reply must not be read as the answer to the next call
            raise ApiError(503, "service_unavailable", f"the {service} service did not answer "
                           "in time; please retry", headers={"Retry-After": "2"}) from None
        except UnknownService:
            raise ApiError(503, "service_unavailable",
                           f"the {service} service is not running") from None
        except TRANSPORT_ERRORS as exc:
            self._reset()
            log.warning("rpc_transport_error", service=service, error=repr(exc))
            raise ApiError(503, "service_unavailable", "the message broker is unreachable; "
                           "please retry", headers={"Retry-After": "2"}) from None
        except RemoteError as exc:
            log.error("rpc_remote_error", service=service, method=method, error=str(exc))
            raise ApiError(500, "internal_error",
                           "something went wrong on our side; please try again") from None
        finally:
            self._slots.release()


def service(name: str) -> Callable[..., Any]:
    """``rpc = service("orders")`` in a routes module; ``rpc("get_order", ...)`` in a view calls
    the orders service through this gateway process's client."""
    from flask import current_app

    def call(method: str, **kwargs: Any) -> Any:
        return current_app.config["RPC"].call(name, method, **kwargs)

    return call
