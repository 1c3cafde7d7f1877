"""Connection to a service's own database, on pymongo's API.

A ``mongodb://`` URL selects a real MongoDB. Without one, the embedded store (litemongo: SQLite
files, evaluated by mongomock) keeps the data under ``DATA_DIR/<service>/``. That engine is safe
only for one process on one OS thread (a nameko service under eventlet), so the directory is
locked: a second opener fails at once with an error naming the holder instead of corrupting data.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider

from services.common.config import setting

LOCK_NAME = "LOCK"


class StoreLockedError(RuntimeError):
    """Another live process has this service's embedded data directory open."""


class DataDirLock:
    """An exclusive advisory lock on a data directory, released when the process dies."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._fd: int | None = None

    def acquire(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreLockedError(
                f"the data directory {self.directory} is already open in another process "
                f"({holder}); only one process may open an embedded store. Stop that process, "
                f"or set MONGO_URL to use a MongoDB server."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class Database:
    """An open database plus whatever must be released when it closes."""

    def __init__(self, db: Any, client: Any, lock: DataDirLock | None):
        self.db = db
        self._client = client
        self._lock = lock

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            if self._lock is not None:
                self._lock.release()


def mongo_client_options(mongo_url: str) -> dict[str, Any]:
    """Client options for a MongoDB replica set. Every write is acknowledged by a majority of
    the members (w=majority, journaled), so a write the service reported done survives the
    loss of the primary; retryable writes resend one interrupted by an election. Options in
    the URL itself win (``?w=1`` for a benchmark, say)."""
    in_url = {part.split("=", 1)[0].lower() for part in urlsplit(mongo_url).query.split("&")}
    options: dict[str, Any] = {"tz_aware": True}
    defaults = {"w": "majority", "journal": True, "retryWrites": True,
                "wTimeoutMS": 10_000, "readPreference": "primary"}
    options.update({key: value for key, value in defaults.items() if key.lower() not in in_url})
    return options


def open_database(name: str, mongo_url: str = "", data_dir: str = "data",
                  prefix: str = "") -> Database:
    """Open the database called ``name`` (``prefix + name`` on a MongoDB server) on a MongoDB
    server or in the embedded store."""
    if mongo_url.startswith(("mongodb://", "mongodb+srv://")):
        import pymongo

        client = pymongo.MongoClient(mongo_url, **mongo_client_options(mongo_url))
        return Database(client[prefix + name], client, None)
    if mongo_url:
        raise ValueError("MONGO_URL must start with mongodb:// or mongodb+srv:// (or be empty)")

    import litemongo

    directory = Path(data_dir).absolute() / name
    lock = DataDirLock(directory)
    lock.acquire()
    try:
        client = litemongo.MongoClient(str(directory / "db"), tz_aware=True)
    except Exception:
        lock.release()
        raise
    return Database(client[name], client, lock)


def run_once(meta: Any, name: str, step: Callable[[], Any]) -> bool:
    """A one-time data migration at start-up: run ``step`` unless the ``meta`` collection
    records ``name`` as done, then record it. Finding documents still in an old shape reads a
    whole collection, so it is looked for once, not at every start. ``step`` must be
    idempotent: two replicas starting together may both run it (the second finds nothing to
    change). True if it ran."""
    if meta.find_one({"_id": name}) is not None:
        return False
    step()
    meta.update_one({"_id": name}, {"$set": {"done": True}}, upsert=True)
    return True


class StoreProvider(DependencyProvider):
    """Gives each worker the service's store object (domain verbs over its collections).

    ``store_cls(db)`` is built once at start-up, after which its ``ensure_indexes()`` runs.
    """

    def __init__(self, store_cls: type, db_name: str):
        self.store_cls = store_cls
        self.db_name = db_name
        self.database: Database | None = None
        self.store: Any = None

    def setup(self) -> None:
        config = self.container.config
        self.database = open_database(
            self.db_name, setting(config, "MONGO_URL"), setting(config, "DATA_DIR"),
            setting(config, "MONGO_DB_PREFIX"),
        )
        self.store = self.store_cls(self.database.db)
        self.store.ensure_indexes()

    def stop(self) -> None:
        if self.database is not None:
            self.database.close()
            self.database = None

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.store
