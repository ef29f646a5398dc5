"""Feed impressions off the request path: buffered per process, written in batches.

A feed page records a `view` event per card it renders (DESIGN.md, data flow
3). Written inside the request, that INSERT was the page's largest single
cost (about a tenth of its CPU) and, on the embedded SQLite default, the page
waited for the one write lock: while a task worker sent a campaign in
back-to-back write transactions, pages waited seconds for it (docs/BENCHMARKS.md,
"the feed while a campaign sends").

So the request only appends rows to a list in its process; a daemon thread
per process writes them every `SHOP_IMPRESSIONS_FLUSH_SECONDS` (or sooner
when FLUSH_ROWS are waiting) in one transaction. Nothing reads impressions on
the request path: the rebuild and the analytics refresh aggregate them later.

What this trades: a process killed with SIGKILL loses the impressions of its
last interval (about a second of views; never an order, a cart or a click,
which are still written in their request). A graceful stop (gunicorn's
worker_exit, max_requests recycling, interpreter exit) writes them. A write
that fails (the database down or locked past its timeout) keeps the rows for
the next try; past BUFFER_MAX_ROWS the oldest are dropped and the count is
logged and kept in `dropped`, so a long database outage cannot grow a
worker's memory without bound.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction

from personalization.importers import events_insert_rows

logger = logging.getLogger("shop.impressions")

# Rows waiting that wake the writer before its interval ends (about 50 feed pages).
FLUSH_ROWS = 1000
# Rows a process keeps while the database refuses them: about 1.5 MB.
BUFFER_MAX_ROWS = 20000


def flush_interval() -> float:
    """Seconds between writes; 0 writes in the request (the test suite's mode)."""
    return float(getattr(settings, "SHOP_IMPRESSIONS_FLUSH_SECONDS", 1.0))


class ImpressionBuffer:
    """Rows of a process waiting to be written, and the thread that writes them."""

    def __init__(self, *, max_rows: int = BUFFER_MAX_ROWS, flush_rows: int = FLUSH_ROWS,
                 background: bool = True):
        """`background=False`: no writer thread; rows wait for `flush()`."""
        self.max_rows = max_rows
        self.background = background
        self.flush_rows = flush_rows
        self.dropped = 0
        self._rows: list[tuple] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid: int | None = None

    def add(self, rows: list[tuple]) -> None:
        with self._lock:
            if self._owner_pid != os.getpid():
                # First use in this process, or a fork copied a parent's
                # buffer: its thread did not come along, and its rows are the
                # parent's to write.
                self._rows = []
                self._owner_pid = os.getpid()
                if self.background:
                    self._start_writer()
            self._rows.extend(rows)
            self._trim()
            if len(self._rows) >= self.flush_rows:
                self._wake.set()

    def pending(self) -> list[tuple]:
        with self._lock:
            return list(self._rows)

    def flush(self) -> int:
        """Write what is waiting in one transaction; return the rows written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            with transaction.atomic():
                events_insert_rows(rows)
        except DatabaseError as exc:
            with self._lock:
                self._rows[:0] = rows
                self._trim()
            logger.warning("impressions not written yet, kept for the next try",
                           extra={"rows": len(rows), "error": str(exc)})
            return 0
        return len(rows)

    def _trim(self) -> None:
        over = len(self._rows) - self.max_rows
        if over > 0:
            del self._rows[:over]
            self.dropped += over
            logger.error("impressions dropped: the database refused them for too long",
                         extra={"rows": over, "dropped_total": self.dropped})

    def _start_writer(self) -> None:
        thread = threading.Thread(target=self._run, name="impressions-writer", daemon=True)
        thread.start()
        atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait(flush_interval() or 1.0)
            self._wake.clear()
            if not self._rows:  # an idle worker touches no connection
                continue
            # This thread's own connection: closed when too old or broken, as
            # a request's would be (CONN_MAX_AGE), then reopened on use.
            close_old_connections()
            try:
                self.flush()
            except Exception:  # a bug must not end the writer: later rows would pile up
                logger.exception("impressions writer failed")
            finally:
                close_old_connections()


buffer = ImpressionBuffer()


def impressions_write(rows: list[tuple]) -> None:
    """Write rows now (interval 0) or hand them to this process's writer."""
    if flush_interval() <= 0:
        events_insert_rows(rows)
    else:
        buffer.add(rows)


def impressions_flush() -> int:
    """Write what this process holds now (a worker's graceful exit, tests)."""
    return buffer.flush()
