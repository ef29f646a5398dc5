"""`make run`: gunicorn and the task worker(s) as one command; Ctrl-C or TERM stops them all.

The children run in their own sessions, so a Ctrl-C reaches only this
supervisor, which passes on one TERM: gunicorn finishes its requests, a worker
finishes its running task (a task cut short would simply run again). If either
side dies, the other is stopped too and the exit status says so: a shop that
serves pages but never renders photos must not look healthy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Seconds a child may take to stop after TERM before it is killed.
STOP_GRACE = 30


def main() -> int:
    bin_dir = Path(sys.executable).parent
    workers = int(os.environ.get("TASK_WORKERS", "1"))
    commands = {"web": [str(bin_dir / "gunicorn"), "-c", "shop/gunicorn.conf.py"]}
    for number in range(1, workers + 1):
        commands[f"worker-{number}"] = [sys.executable, "manage.py", "run_worker"]
    children = {
        name: subprocess.Popen(command, cwd=ROOT, start_new_session=True)  # noqa: S603
        for name, command in commands.items()
    }
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        for name, child in children.items():
            code = child.poll()
            if code is not None:
                print(f"serve: {name} exited with status {code}; stopping the rest",
                      file=sys.stderr, flush=True)
                status = code or 1
                stopping = True
                break
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return status


if __name__ == "__main__":
    sys.exit(main())
