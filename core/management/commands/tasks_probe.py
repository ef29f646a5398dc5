"""`manage.py tasks_probe [--count N] [--interval S] [--timeout S]`: queue latency now."""

from __future__ import annotations

import json
import statistics
import time

from django.core.management.base import BaseCommand, CommandError

from core.probes import ProbeError, queue_probe_send


class Command(BaseCommand):
    help = ("Send no-op tasks through the task engine and print how long each waited for a "
            "worker (enqueue -> start) and until it was done.")

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=5, help="probes to send (default 5)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between probes (default 1)")
        parser.add_argument("--timeout", type=float, default=30.0,
                            help="seconds to wait for a worker to take each probe (default 30)")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="print one JSON summary line instead")

    def handle(self, *args, count, interval, timeout, as_json, **options):
        if count < 1:
            raise CommandError(f"--count: expected 1 or more, got {count}")
        if interval < 0 or timeout <= 0:
            raise CommandError("--interval must be >= 0 and --timeout > 0")
        waited, total = [], []
        for number in range(1, count + 1):
            try:
                timing = queue_probe_send(timeout=timeout)
            except ProbeError as exc:
                raise CommandError(f"probe {number}: {exc}") from exc
            waited.append(timing.waited_ms)
            total.append(timing.total_ms)
            if not as_json:
                self.stdout.write(f"probe {number}: waited {timing.waited_ms:.0f} ms, "
                                  f"done after {timing.total_ms:.0f} ms")
            if number < count:
                time.sleep(interval)
        summary = {"probes": count, "waited_ms_p50": round(statistics.median(waited), 1),
                   "waited_ms_max": round(max(waited), 1),
                   "done_ms_p50": round(statistics.median(total), 1),
                   "done_ms_max": round(max(total), 1)}
        if as_json:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(f"queue latency: median {summary['waited_ms_p50']:.0f} ms, "
                              f"max {summary['waited_ms_max']:.0f} ms over {count} probes")

