"""Analytics background tasks: the periodic refresh of the aggregate tables."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from analytics.models import Snapshot
from analytics.refresh import RefreshError, analytics_refresh
from core.tasks import retrying

logger = logging.getLogger("shop.tasks")

# A snapshot "building" for longer than this was left by a refresh that died
# (kill -9, a lost machine): no refresh takes anywhere near as long.
STALE_BUILD_AFTER = timedelta(minutes=30)


@task()
@retrying(retry_on=(RefreshError,))
def analytics_refresh_task() -> dict:
    """Rebuild and serve the analytics snapshot; return its time and timings."""
    stale = Snapshot.objects.filter(
        status=Snapshot.Status.BUILDING, created_at__lt=timezone.now() - STALE_BUILD_AFTER
    ).exists()
    snapshot = analytics_refresh(force=stale, progress=logger.info)
    return {"as_of": snapshot.as_of.isoformat(), "seconds": snapshot.stats.get("seconds", 0)}
