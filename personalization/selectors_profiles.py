"""Reads about shoppers (the feed's reads live in selectors.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import router

from catalog.models import Region
from core.db import CompiledQuery, instances_from_row, model_columns

from .models import ShopperProfile

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


def parse_public_id(value: object) -> uuid.UUID | None:
    """Return the UUID in `value`, or None when it is not one."""
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


# Every page reads this (the `sid` cookie): the profile and its region as one
# row, compiled once (core/db.py), instances built with Model.from_db.
_profile_by_public_id = CompiledQuery(
    lambda _shape, public_id: ShopperProfile.objects.filter(public_id=public_id)
    .order_by("pk").values_list(*model_columns(ShopperProfile),
                                *model_columns(Region, "region__"))[:1]
)


def shopper_get(*, public_id: uuid.UUID | str) -> ShopperProfile | None:
    """Return the profile with this public id, or None (also for a malformed id)."""
    parsed = parse_public_id(public_id)
    if parsed is None:
        return None
    alias = router.db_for_read(ShopperProfile)
    rows = _profile_by_public_id.rows(alias=alias, public_id=parsed)
    if not rows:
        return None
    profile, region = instances_from_row(alias, rows[0], ShopperProfile, Region)
    # What select_related("region") would have cached (None: no region).
    profile.region = region if profile.region_id is not None else None
    return profile


def shopper_get_for_user(*, user: AbstractBaseUser | AnonymousUser) -> ShopperProfile | None:
    """Return the profile linked to this account, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return ShopperProfile.objects.select_related("region").filter(user=user).first()


def shoppers_by_ref(*, refs: Iterable[str]) -> dict[str, ShopperProfile]:
    """Return {ref: profile} for CSV external ids or public UUIDs (unknown refs left out).

    `recommend --shopper ID` accepts both: imported shoppers are known by their
    CSV id, site shoppers by their public id.
    """
    refs = list(dict.fromkeys(refs))
    found: dict[str, ShopperProfile] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start:start + 500]
        for profile in ShopperProfile.objects.select_related("region").filter(
            external_id__in=[ref for ref in chunk if ref]
        ):
            found[profile.external_id] = profile
        uuids = {parse_public_id(ref): ref for ref in chunk if ref not in found}
        uuids.pop(None, None)
        for profile in ShopperProfile.objects.select_related("region").filter(
            public_id__in=list(uuids)
        ):
            found[uuids[profile.public_id]] = profile
    return found


def ranking_fit_get() -> dict | None:
    """Return the served version's weight fit (personalization/fitting.py) for
    the admin, with the version's id and build time; None before any rebuild."""
    from .affinity import RankingVersion

    version = (RankingVersion.objects.filter(status=RankingVersion.Status.ACTIVE)
               .only("pk", "built_at", "stats").first())
    if version is None:
        return None
    fit = dict(version.stats.get("fit") or {"status": "configured",
                                             "message": "the rebuild did not fit weights"})
    cohorts = []
    for cohort in ("cold", "warm"):
        weights = (fit.get("weights") or {}).get(cohort)
        cohorts.append({"cohort": cohort, "weights": sorted(weights.items()) if weights else [],
                        "validation": (fit.get("validation") or {}).get(cohort)})
    return {"version": version.pk, "built_at": version.built_at, "status": fit["status"],
            "message": fit.get("message", ""), "messages": fit.get("messages", []),
            "holdout_days": fit.get("holdout_days"), "seed": fit.get("seed"),
            "cohorts": cohorts}
