"""Liveness and readiness probes for the process manager and load balancer."""

import logging

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.tasks import worker_readiness

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Return 200 while the process can answer at all."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Return 200 when the database and the cache answer, 503 otherwise; report the worker."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        logger.exception("readiness: database unreachable")
        checks["database"] = "error"
    try:
        cache.set("readyz", "1", 5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "error"
    except Exception:  # noqa: BLE001
        logger.exception("readiness: cache unreachable")
        checks["cache"] = "error"
    ready = all(value == "ok" for value in checks.values())
    # The task worker is reported, not required: a web server with no worker
    # still serves pages, and must not be taken out of the load balancer.
    try:
        worker = worker_readiness()
    except Exception:  # noqa: BLE001
        logger.exception("readiness: task queue unreadable")
        worker = {"status": "error"}
    return JsonResponse({"status": "ok" if ready else "error", **checks, "worker": worker},
                        status=200 if ready else 503)
