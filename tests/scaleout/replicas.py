"""Two (or more) replicas of a service in one process, sharing one database, as several
replicas share one MongoDB.

Each replica is its own nameko ServiceContainer of the same service class, so RPC and event
queues have competing consumers, every replica runs its own timers, and every replica builds
its own store object over the shared database: its own in-memory read models (merchant
cells, technician copies, the stream numbering's memory) exactly as separate processes would
have. Under eventlet an embedded-store call runs without yielding; to let the replicas
interleave between store calls as processes on MongoDB do (where every call is a network
round trip), each replica's collections yield to the other green threads before every call.
Without that, a read-then-write that lacks its guard would still run undisturbed here and
the test could not catch it.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import eventlet
from kombu import Connection, Exchange, Queue
from nameko.testing.services import entrypoint_hook

import services.common.store as common_store
import services.dispatch.service as dispatch_service


@contextmanager
def one_database_per_service(monkeypatch: Any) -> Iterator[dict]:
    """``open_database`` hands every replica of a service the same open database (the
    embedded store's lock would otherwise, rightly, refuse the second opener)."""
    opened: dict[tuple, list] = {}  # (name, url, dir) -> [Database, how many hold it]
    real_open = common_store.open_database

    class Shared:
        def __init__(self, key: tuple):
            self.key = key
            self.db = YieldingDatabase(opened[key][0].db)

        def close(self) -> None:
            entry = opened[self.key]
            entry[1] -= 1
            if entry[1] == 0:
                entry[0].close()
                del opened[self.key]

    def shared_open(name: str, mongo_url: str = "", data_dir: str = "data",
                    prefix: str = "") -> Shared:
        key = (name, mongo_url, os.path.abspath(data_dir), prefix)
        if key not in opened:
            opened[key] = [real_open(name, mongo_url, data_dir, prefix), 0]
        opened[key][1] += 1
        return Shared(key)

    monkeypatch.setattr(common_store, "open_database", shared_open)
    monkeypatch.setattr(dispatch_service, "open_database", shared_open)
    yield opened


class YieldingCollection:
    """A collection whose every call first lets other green threads run."""

    def __init__(self, collection: Any):
        self._collection = collection

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            eventlet.sleep(0)
            return attr(*args, **kwargs)

        return call


class YieldingDatabase:
    def __init__(self, db: Any):
        self._db = db

    def __getitem__(self, name: str) -> YieldingCollection:
        return YieldingCollection(self._db[name])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def extension(container: Any, attr: str) -> Any:
    return next(e for e in container.extensions if getattr(e, "attr_name", None) == attr)


class Replicas:
    """The replicas of one service, and what each of them handled."""

    def __init__(self, container_factory: Any, service_cls: type, config: dict, n: int = 2):
        self.name = service_cls.name
        self.containers = [container_factory(service_cls, config) for _ in range(n)]
        self.handled = [Counter() for _ in range(n)]
        for container, counter in zip(self.containers, self.handled, strict=True):
            _count_work(container, counter)

    def start(self) -> None:
        for container in self.containers:
            container.start()

    def store(self, i: int) -> Any:
        return extension(self.containers[i], "store").store

    def set_clock_offset(self, offset: Any) -> None:
        for container in self.containers:
            extension(container, "clock").clock.offset = offset

    def call(self, i: int, method: str, **kwargs: Any) -> Any:
        """Call an entrypoint of replica ``i`` directly (as if the broker chose it)."""
        with entrypoint_hook(self.containers[i], method) as hook:
            return hook(**kwargs)

    def all_at_once(self, method: str, **kwargs: Any) -> list[Any]:
        """Run ``method`` (a timer's entrypoint) on every replica at the same moment."""
        threads = [eventlet.spawn(self.call, i, method, **kwargs)
                   for i in range(len(self.containers))]
        return [t.wait() for t in threads]

    def share(self, *entrypoints: str) -> list[int]:
        """How many calls of these entrypoints each replica handled."""
        return [sum(c[e] for e in entrypoints) for c in self.handled]


def _count_work(container: Any, counter: Counter) -> None:
    spawn = container.spawn_worker

    def counting_spawn(entrypoint, args, kwargs, context_data=None, handle_result=None):
        counter[entrypoint.method_name] += 1
        return spawn(entrypoint, args, kwargs, context_data=context_data,
                     handle_result=handle_result)

    container.spawn_worker = counting_spawn


class EventRecorder:
    """Every event the services publish, as published (duplicates included), read from a
    queue of its own bound to each service's event exchange."""

    def __init__(self, amqp_uri: str, sources: tuple[str, ...]):
        self.connection = Connection(amqp_uri)
        channel = self.connection.default_channel
        self.queue = Queue("scaleout-recorder", durable=False, auto_delete=False,
                           channel=channel)
        self.queue.declare()
        for source in sources:
            exchange = Exchange(f"{source}.events", type="topic", durable=True,
                                channel=channel)
            exchange.declare()
            self.queue.bind_to(exchange=exchange, routing_key="#")
        self.events: list[dict] = []

    def drain(self) -> list[dict]:
        while (message := self.queue.get(no_ack=True)) is not None:
            payload = message.payload
            if isinstance(payload, dict) and "type" in payload and "id" in payload:
                self.events.append(payload)  # (replica announcements carry no envelope)
        return self.events

    def close(self) -> None:
        self.queue.delete()
        self.connection.release()
