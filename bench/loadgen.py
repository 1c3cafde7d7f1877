"""A small closed-loop HTTP load generator: keep-alive connections on raw sockets, spread over
processes so the client's own GIL is not what is measured (no wrk on the build machines).

    rows = load(base_url, [("GET", "/healthz", {})], seconds=5, clients=8)

Each client sends one request, reads the whole answer, then sends the next (like wrk). The
result has the rate, p50/p99 latency and a count per status.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

Request = tuple[str, str, dict[str, str]]


def _raw(host: str, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive",
             *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def _read_response(sock: socket.socket, buf: bytearray) -> int:
    """Read one whole response (Content-Length bodies only); returns the status code."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head = bytes(buf[:end]).decode("latin-1")
    status = int(head.split(" ", 2)[1])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    total = end + 4 + length
    while len(buf) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    del buf[:total]
    return status


def _client(host: str, port: int, raws: list[bytes], until: float, out: list, codes: Counter,
            offset: int) -> None:
    sock, buf, n = None, bytearray(), offset
    while time.monotonic() < until:
        if sock is None:
            sock = socket.create_connection((host, port), timeout=30)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf.clear()
        raw = raws[n % len(raws)]
        n += 1
        began = time.perf_counter()
        try:
            sock.sendall(raw)
            status = _read_response(sock, buf)
        except OSError as exc:
            codes[type(exc).__name__] += 1
            sock.close()
            sock = None
            continue
        out.append(time.perf_counter() - began)
        codes[status] += 1
    if sock is not None:
        sock.close()


def _process(host: str, port: int, raws: list[bytes], seconds: float, threads: int,
             first: int, results: multiprocessing.Queue) -> None:
    until = time.monotonic() + seconds
    latencies: list[float] = []
    codes: Counter = Counter()
    workers = [threading.Thread(target=_client, args=(host, port, raws, until, latencies,
                                                      codes, first + i * 7919))
               for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    results.put((latencies, dict(codes)))


def load(base_url: str, requests: list[Request], seconds: float = 5.0, clients: int = 8,
         processes: int = 2) -> tuple[list[float], Counter, float]:
    """Drive ``requests`` (cycled) from ``clients`` keep-alive connections for ``seconds``;
    returns (latencies in s, count per status, seconds driven)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raws = [_raw(f"{host}:{port}", m, p, h) for m, p, h in requests]
    processes = max(1, min(processes, clients))
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0)
           for i in range(processes)]
    procs = [ctx.Process(target=_process, args=(host, port, raws, seconds, n, i * 1000,
                                                results))
             for i, n in enumerate(per)]
    for p in procs:
        p.start()
    latencies: list[float] = []
    codes: Counter = Counter()
    for _ in procs:
        got, counts = results.get(timeout=seconds + 120)
        latencies.extend(got)
        codes.update(counts)
    for p in procs:
        p.join()
    return latencies, codes, seconds
