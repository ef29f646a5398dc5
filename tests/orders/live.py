"""A real shop behind gunicorn for concurrency and browser tests.

The server runs the production setup (shop/gunicorn.conf.py, several sync
workers, DEBUG off) on a database of its own: a SQLite file made by `migrate`
in a temporary folder, or, when the test run's DATABASE_URL points at
PostgreSQL, a separate `<name>_live` database created and dropped here. Rows
are made and checked through `manage.py shell` (live_seed.py) in that
database, never through pytest's test database.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# This app's share of the machine's live-server ports (see the team rules).
PORTS = range(8300, 8400)


def free_port(ports: range = PORTS) -> int:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


class LiveShop:
    # Other suites pass their own share of the ports (tests/reliability: 8800-8899).
    ports: range = PORTS

    def __init__(self, tmp_dir: Path, *, workers: int = 4,
                 database_url: str | None = None) -> None:
        """`database_url`: PostgreSQL to derive the live database from; default the
        test run's DATABASE_URL; anything else (or "") means a SQLite file."""
        self.tmp_dir = tmp_dir
        self.workers = workers
        self.database_url = (os.environ.get("DATABASE_URL", "") if database_url is None
                             else database_url)
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log_path = tmp_dir / "gunicorn.log"
        self.pg_admin_url: str | None = None
        self.env = self._env()

    # --- setup ----------------------------------------------------------------------
    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            DJANGO_DEBUG="0", DJANGO_SECRET_KEY="live-test-" + secrets.token_hex(24),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost", SHOP_VAR_DIR=str(self.tmp_dir),
            SHOP_PLAIN_STATIC="1", GUNICORN_ACCESS_LOG="", DJANGO_LOG_LEVEL="WARNING",
            WEB_CONCURRENCY=str(self.workers), GUNICORN_TIMEOUT="60",
            DJANGO_MEDIA_ROOT=str(self.tmp_dir / "media"),
        )
        env.pop("REDIS_URL", None)  # per-process caches: nothing shared with other tests
        url = self.database_url
        if url.startswith(("postgres://", "postgresql://")):
            base, _sep, name = url.rpartition("/")
            live_name = f"{name.split('?')[0]}_live"
            self.pg_admin_url = f"{base}/postgres"
            self.pg_live_name = live_name
            env["DATABASE_URL"] = f"{base}/{live_name}"
        else:
            env.pop("DATABASE_URL", None)
        return env

    def _pg(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def manage(self, *args: str, extra_env: dict | None = None,
               timeout: int = 180) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(extra_env or {})},
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-4000:]}")
        return result

    def seed(self, command: str, **kwargs) -> dict:
        """Run a live_seed.py command in the server's database and return its answer."""
        result = self.manage(
            "shell", "-c", "from tests.orders.live_seed import main; main()",
            extra_env={"LIVE_SEED": json.dumps({"command": command, **kwargs})},
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    def start(self) -> LiveShop:
        if self.pg_admin_url:
            self._pg(f'DROP DATABASE IF EXISTS "{self.pg_live_name}"')
            self._pg(f'CREATE DATABASE "{self.pg_live_name}"')
        self.manage("migrate", "--noinput", "-v0")
        self.port = free_port(self.ports)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "shop/gunicorn.conf.py"],
            cwd=ROOT, env={**self.env, "PORT": str(self.port)}, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.server_log()}")
            try:
                if self.request("GET", "/healthz").status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in 60 s:\n{self.server_log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # Only the server this object started: its own process group.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()
        if self.pg_admin_url:
            self._pg(f'DROP DATABASE IF EXISTS "{self.pg_live_name}" WITH (FORCE)')

    def server_log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- requests -------------------------------------------------------------------
    def request(self, method: str, path: str, *, body=None, headers: dict | None = None,
                timeout: float = 60) -> Response:
        data = json.dumps(body).encode() if body is not None else None
        # Always our own http://127.0.0.1 server: no file: or other schemes reach here.
        request = urllib.request.Request(self.url + path, data=data, method=method,  # noqa: S310
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())
