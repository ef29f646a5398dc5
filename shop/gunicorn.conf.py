"""Gunicorn settings for `make run` and the benchmarks; environment overrides each."""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# Sync workers: the request path is short and CPU-bound (rendering, ranking);
# (2 x cores) + 1 is gunicorn's own rule of thumb for that.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak can never take the box down.
max_requests = 2000
max_requests_jitter = 200
# Off by default: gunicorn's access log prints query strings (search terms,
# cursors). core.observability writes one JSON line per request instead.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Load the app before forking: workers share its memory pages.
preload_app = True
wsgi_app = "shop.wsgi:application"
# gunicorn's maximum: longer request lines get its raw "URI Too Long" page.
# Up to here Django answers with the shop's own 414 (core/request_limits.py).
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_fork(server, worker):
    # Never share a database connection opened in the master across workers.
    from django.db import connections

    connections.close_all()


def worker_exit(server, worker):
    # A worker recycled (max_requests) or stopped writes the feed impressions
    # it still holds (personalization/impressions.py).
    from personalization.impressions import impressions_flush

    impressions_flush()
