"""The real server in tests, started exactly as ``make serve`` starts it.

``running_server(store_path, env=None, workers=2)`` is a context manager yielding a ``Server``
(``base_url``, ``process``, ``log()``): it runs ``.venv/bin/python run.py serve --store store_path``
with ``HOST=127.0.0.1`` and a free ``PORT`` (``env`` overrides the environment), waits until
``GET /api/layers`` answers 200 (30 s at most), and afterwards SIGTERMs the server's process group,
waits, and kills what is left. Use the session fixture ``store_path`` of ``tests/conftest.py``::

    from tests.serving import running_server

    def test_something(store_path):
        with running_server(store_path, env={"WEB_THREADS": "4"}) as server:
            urllib.request.urlopen(server.base_url + "/api/layers")

The logic lives in ``webmap.server`` so that ``bench/load.py`` shares it without importing tests.
"""

from __future__ import annotations

from webmap.server import Server, free_port, running_server

__all__ = ["Server", "free_port", "running_server"]
