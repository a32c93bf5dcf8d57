"""The shipped server (run.py serve: gunicorn, gthread workers) keeps answering under idle and slow clients.

One real server for the module, started as ``make serve`` does, with a short read timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.serving import Server, running_server

READ_TIMEOUT_S = 3.0
PATH = "/api/layers/parks"


@pytest.fixture(scope="module")
def server(store_path) -> Iterator[Server]:
    with running_server(store_path, env={"WEB_READ_TIMEOUT_S": str(READ_TIMEOUT_S)}, workers=2) as srv:
        for _ in range(6):  # both workers read their layers before anything is timed
            get(srv)
        yield srv


def address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.base_url)
    return parts.hostname, parts.port


def get(server: Server, path: str = PATH) -> tuple[int, float]:
    """GET on a new connection: (status, seconds)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(*address(server), timeout=15)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status, time.monotonic() - start
    finally:
        conn.close()


@contextlib.contextmanager
def connections(server: Server, n: int, send: bytes = b"") -> Iterator[list[socket.socket]]:
    """``n`` open connections that sent ``send`` (maybe nothing) and then stall."""
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(address(server), timeout=10)
            if send:
                s.sendall(send)
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()


def assert_answers_fast(server: Server, times: int = 5) -> None:
    time.sleep(0.3)  # the server has accepted (and is reading) every stalled connection
    for _ in range(times):
        status, seconds = get(server)
        assert status == 200
        assert seconds < 1.0, f"{PATH} took {seconds:.2f} s"
        time.sleep(0.1)


def test_answers_with_50_idle_connections_open(server):
    with connections(server, 50):
        assert_answers_fast(server)


def test_answers_with_50_slow_connections_open(server):
    with connections(server, 50, b"GET /api/layers/pa"):  # part of a request line
        assert_answers_fast(server)


def test_answers_with_50_idle_and_50_slow_connections_open(server):
    with connections(server, 50), connections(server, 25, b"GET /api/layers/pa"), \
            connections(server, 25, b"GET /api/layers/parks HTTP/1.1\r\nHost: x\r\nAccept: */"):  # part of the headers
        assert_answers_fast(server)


def closed_after(sock: socket.socket, start: float, limit: float) -> float:
    """Seconds from ``start`` until the server closed ``sock`` (fails if still open at ``limit``)."""
    sock.settimeout(max(limit - (time.monotonic() - start), 0.01))
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"connection still open after {limit} s")
    return time.monotonic() - start


def test_stalled_connections_are_closed_after_the_read_timeout(server):
    start = time.monotonic()
    with connections(server, 10) as idle, connections(server, 10, b"GET /api/layers/pa") as slow_line, \
            connections(server, 10, b"GET / HTTP/1.1\r\nHost: x\r\n") as slow_headers, \
            connections(server, 1, f"GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode()) as kept_alive:
        # the kept-alive connection got its answer, then stalls in the middle of its next request
        kept_alive[0].settimeout(5)
        first = kept_alive[0].recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first[:100]
        kept_alive[0].sendall(b"GET / HTTP/1.1\r\nHo")
        time.sleep(0.2)
        assert get(server)[0] == 200  # meanwhile the server answers
        limit = READ_TIMEOUT_S + 3.0
        for sock in idle + slow_line + slow_headers:
            assert READ_TIMEOUT_S - 0.3 <= closed_after(sock, start, limit) <= limit
        kept_start = time.monotonic()
        # drop what is left of the first response, then wait for the close
        assert closed_after(kept_alive[0], kept_start, limit) >= 0
    status, seconds = get(server)
    assert status == 200 and seconds < 1.0
