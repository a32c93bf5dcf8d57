"""Gunicorn settings of the shipped server, read from the environment: the one place they live.

``python run.py serve`` (and so ``make serve``) runs
``gunicorn --config webmap/gunicorn_conf.py --bind HOST:PORT --workers N webmap:create_app()``;
``gunicorn --config webmap/gunicorn_conf.py`` alone serves the same way. Gunicorn executes this file
by its path, so the master process imports only gunicorn and the standard library: each worker
imports and builds the app itself (no preload), reads the layers once and shares them between its
threads, and a HUP restarts workers on the current code.

Worker class: ``ThreadWorker`` below, gunicorn's ``gthread`` worker with one change. Stock
``gthread`` hands every new connection to a thread that waits up to 5 s for a first byte, and a
client that sent part of a request line or of its headers then holds that thread in a blocking read
with no time limit: 16 such clients stall a worker of 16 threads. Here the main loop of each worker
reads request heads itself (non-blocking, in its poller) and gives a connection to a thread only
once its head is complete; a connection whose head is not in within ``WEB_READ_TIMEOUT_S`` of its
first byte (or of being accepted) is closed. In the thread the socket keeps that timeout, which
bounds reading a request body and writing a response to a client that stopped reading.

Settings (environment variables): ``HOST``, ``PORT``, ``WEB_WORKERS`` (processes, default 2),
``WEB_THREADS`` (threads per process, default 4: the work is CPU-bound, more threads only share the GIL less fairly), ``WEB_READ_TIMEOUT_S`` (default 10). Any other
gunicorn option can be given in ``GUNICORN_CMD_ARGS`` (e.g. ``"--timeout 60"``), which overrides
this file; command-line options override both.
"""

from __future__ import annotations

import errno
import os
import re
import selectors
import time
from collections import deque
from functools import partial

from gunicorn.workers import gthread


def _setting(name: str, default: str, kind: type, minimum: float) -> float:
    raw = os.environ.get(name) or default
    try:
        value = kind(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected a {kind.__name__} >= {minimum}") from None
    if value < minimum:
        raise SystemExit(f"{name}={raw!r}: expected a {kind.__name__} >= {minimum}")
    return value


HOST = os.environ.get("HOST") or "127.0.0.1"
PORT = int(_setting("PORT", "8000", int, 0))
#: Seconds a client has to send a complete request head; also the socket timeout while it is served.
READ_TIMEOUT_S = float(_setting("WEB_READ_TIMEOUT_S", "10", float, 0.1))

# ---- gunicorn settings (names as in https://docs.gunicorn.org/en/stable/settings.html) -----------
wsgi_app = "webmap:create_app()"
bind = f"[{HOST}]:{PORT}" if ":" in HOST and not HOST.startswith("[") else f"{HOST}:{PORT}"
workers = int(_setting("WEB_WORKERS", "2", int, 1))
threads = int(_setting("WEB_THREADS", "4", int, 1))
worker_connections = 1000  # open connections per worker (served, kept alive or sending their head)
timeout = 30  # a worker whose main loop is silent this long is killed (requests run in threads)
graceful_timeout = 20  # on stop/HUP, time to finish requests in flight (a large PDF export takes ~5 s)
keepalive = 5  # an idle kept-alive connection waits this long in the poller, holding no thread
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
control_socket_disable = True  # no runtime control socket in $HOME: a map server needs no gunicornc

#: A complete request head ends with an empty line.
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
#: Bytes read per recv, and a head size past which a thread takes over (the parser then enforces
#: limit_request_line/fields with the socket timeout still bounding the wait).
_CHUNK = 16384
_HANDOFF_BYTES = 65536


class _Conn(gthread.TConn):
    """A gthread connection that carries its request head read so far, and a socket timeout."""

    def __init__(self, cfg, sock, client, server, read_timeout: float) -> None:
        super().__init__(cfg, sock, client, server)
        self.read_timeout = read_timeout
        self.head = bytearray()
        self.head_deadline = 0.0

    def init(self) -> None:
        """Called by the worker thread for every request, right after the socket is made blocking."""
        super().init()
        self.sock.settimeout(self.read_timeout)
        if self.head and not self.is_http2:
            self.parser.unreader.unread(bytes(self.head))
        self.head = bytearray()


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker whose threads only get connections with a complete request head."""

    read_timeout = READ_TIMEOUT_S

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: connections sending their request head, oldest deadline first
        self.reading_conns: deque[_Conn] = deque()
        # TLS bytes or an HTTP/2 preface cannot be read as an HTTP/1 head here: then only the socket
        # timeout applies, as the stock worker does otherwise.
        self.read_heads = not self.cfg.is_ssl and self.cfg.http2_cleartext not in ("prior-knowledge", "both")

    def accept(self, listener) -> None:
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        conn = _Conn(self.cfg, sock, client, listener.getsockname(), self.read_timeout)
        if self.read_heads:
            self._read_head(conn)
        else:
            self.enqueue_req(conn)

    def on_client_socket_readable(self, conn: _Conn, client) -> None:
        """A kept-alive connection starts its next request: read that head in the poller too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_head(conn)

    def _read_head(self, conn: _Conn) -> None:
        conn.head = bytearray()
        conn.head_deadline = time.monotonic() + self.read_timeout
        self.reading_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_head_readable, conn))

    def _on_head_readable(self, conn: _Conn, _sock) -> None:
        try:
            data = conn.sock.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        start = max(0, len(conn.head) - 3)
        conn.head += data
        if _END_OF_HEAD.search(conn.head, start) or len(conn.head) >= _HANDOFF_BYTES:
            self._stop_reading(conn)
            conn.data_ready = True  # the thread must not wait for data again
            self.enqueue_req(conn)

    def _stop_reading(self, conn: _Conn) -> None:
        self.reading_conns.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn: _Conn) -> None:
        self._stop_reading(conn)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also close connections whose head is late. On shutdown, close those that sent nothing at
        once and give the others a short linger (as gthread does for kept-alive connections)."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive:
            for conn in [c for c in self.reading_conns if not c.head]:
                self._drop(conn)
            linger = now + gthread.STOP_KEEPALIVE_LINGER
            for conn in self.reading_conns:  # the same cap for all keeps the deque in deadline order
                conn.head_deadline = min(conn.head_deadline, linger)
        while self.reading_conns and self.reading_conns[0].head_deadline <= now:
            conn = self.reading_conns[0]
            self.log.debug("Closing %s: no complete request head in time", conn.client)
            self._drop(conn)


worker_class = ThreadWorker
