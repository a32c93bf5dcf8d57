"""Checks of our own that schemathesis runs on every response (loaded through ``SCHEMATHESIS_HOOKS``).

No response may carry a server path (the repository, the store's folder, a temporary folder) or a
Python traceback, whatever the fuzzer sends.
"""

from __future__ import annotations

import os

import schemathesis

#: Text that must never reach a client: paths of this machine, given by the test, and tracebacks.
FORBIDDEN = [p for p in os.environ.get("FUZZ_FORBIDDEN_TEXT", "").split(os.pathsep) if p] + [
    "Traceback (most recent call last)", 'File "/']


@schemathesis.check
def no_server_path_or_traceback(ctx, response, case) -> None:
    """The body and the headers name no server path and show no traceback."""
    text = response.content.decode("utf-8", "replace") + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for needle in FORBIDDEN:
        if needle in text:
            raise AssertionError(f"the response contains {needle!r}")
