"""The gateway's RPC client while the broker cannot be reached: every call is refused at once
with 503, not after kombu's reconnect sleeps (nameko's defaults waited 2, 3 or 5 s), and the
first call once the broker is back is answered. The gateway reaches the broker through a TCP
relay of this test's, which it cuts: the shared broker itself is never stopped."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import kombu.utils.functional
import pytest
from nameko.rpc import rpc

from services.gateway.errors import ApiError
from services.gateway.rpc import RpcClient


class Relay:
    """Forwards TCP connections on a port of its own to the broker; ``cut`` drops them all and
    stops listening (to a client, the broker has gone), ``start`` listens again. Sockets are
    only shut down from outside; the thread using one closes it (eventlet's green sockets
    must not be closed under a reader)."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, 0
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port, self._listener = listener.getsockname()[1], listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def cut(self) -> None:
        for sock in [self._listener, *self._sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._sockets = []
        self._accepting.join(5)  # the listener closed: its port can be bound again

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while True:
                try:
                    client, _ = listener.accept()
                except OSError:
                    return
                upstream = socket.create_connection(self.target)
                self._sockets += [client, upstream]
                for source, sink in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(source, sink),
                                     daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except (OSError, EOFError):  # EOFError: eventlet's green socket after shutdown
            pass
        for sock in (source, sink):  # the other direction's thread then sees the end too
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        source.close()


class Pong:
    name = "pong"

    @rpc
    def ping(self):
        return "pong"


@pytest.fixture
def relay(amqp_uri):
    parts = urlsplit(amqp_uri)
    relay = Relay((parts.hostname, parts.port or 5672))
    relay.start()
    relay.uri = urlunsplit(parts._replace(
        netloc=f"{parts.username}:{parts.password}@127.0.0.1:{relay.port}"))
    yield relay
    relay.cut()


@pytest.fixture
def kombu_sleeps(monkeypatch):
    """The seconds kombu's retry loop (retry_over_time) sleeps between connection attempts."""
    slept: list[float] = []
    real = kombu.utils.functional.sleep
    monkeypatch.setattr(kombu.utils.functional, "sleep",
                        lambda seconds: (slept.append(seconds), real(seconds)))
    return slept


def test_while_the_broker_is_unreachable_calls_are_refused_at_once_and_answered_after(
        container_factory, service_config, relay, kombu_sleeps):
    container_factory(Pong, service_config).start()
    client = RpcClient(relay.uri, timeout=5, max_in_flight=4)
    assert client.call("pong", "ping") == "pong"  # this thread's proxy and pooled connection

    relay.cut()
    for _ in range(2):  # the proxy (and connection) of before, then a new one
        with pytest.raises(ApiError) as refused:
            client.call("pong", "ping")
        assert (refused.value.status, refused.value.code) == (503, "service_unavailable")
    assert kombu_sleeps == [], "a call waited in kombu's reconnect loop"

    relay.start()
    assert client.call("pong", "ping") == "pong"


def test_a_connection_the_broker_dropped_is_renewed_without_failing_the_call(
        container_factory, service_config, relay):
    container_factory(Pong, service_config).start()
    client = RpcClient(relay.uri, timeout=5, max_in_flight=4)
    assert client.call("pong", "ping") == "pong"
    relay.cut()
    relay.start()  # back before the next call: the pooled publisher connection is stale
    assert client.call("pong", "ping") == "pong"
