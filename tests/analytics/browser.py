"""What the analytics browser test and the screenshot script share: Chromium and our ports."""

from __future__ import annotations

import socket

# The storefront's browser suite owns the Chromium path and flags; reuse them.
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "free_port"]

# The analytics share of the team's port plan.
PORTS = range(8700, 8750)


def free_port() -> int:
    """Return the first port of our range nobody listens on."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")
