"""Personalization background tasks: the periodic ranking rebuild."""

from __future__ import annotations

import logging

from django_tasks import task

from core.tasks import retrying
from personalization.rebuild import RebuildError, affinities_rebuild

logger = logging.getLogger("shop.tasks")


@task()
# "Another rebuild is running" is worth waiting out. A killed rebuild flipped
# nothing (the new version is built beside the served one) and is run again.
@retrying(retry_on=(RebuildError,))
def affinities_rebuild_task() -> dict:
    """Build and serve a new ranking version; return its id and timings."""
    version = affinities_rebuild(progress=logger.info)
    return {"version": version.pk, "seconds": version.stats.get("seconds", 0)}
