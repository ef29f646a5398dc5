"""Staff campaigns: an audience from the segment lattice, refused under k, planned per local time.

`campaign_audience(campaign)` is the audience (a queryset of profiles);
`campaign_schedule(*, campaign, actor)` checks it (staff only, at least
K_THRESHOLD shoppers: a smaller audience could single people out) and queues
`campaign_plan_task`; `campaign_plan(*, campaign_id)` writes one deferred
Notification per shopper in batches (bulk INSERT, ignoring rows a previous
run wrote: idempotent), due at the campaign's hour in the shopper's zone.
The scheduled release (`notifications_deferred_send`) sends them, applying
caps, quiet hours and stops at that moment.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from catalog.models import Region
from catalog.services import actor_sees_all
from core.tasks import enqueue_on_commit
from personalization.conf import get_config as personalization_config
from personalization.models import Event, EventType, ShopperProfile

from . import sendtime
from .conf import get_config
from .models import Campaign, Kind, Notification

PLAN_BATCH = 2000


# What shows an affinity for a category: a view alone (a scrolled-past feed
# card) does not, and "not interested" says the opposite.
AFFINITY_EVENT_TYPES = (EventType.CLICK, EventType.CART, EventType.SHARE, EventType.PURCHASE)


def campaign_audience(campaign: Campaign, *, now: dt.datetime | None = None
                      ) -> QuerySet[ShopperProfile]:
    """Return the profiles the campaign's filters select (a region includes those under it).

    A category selects shoppers with an affinity for it: one of
    AFFINITY_EVENT_TYPES on a listing of the category or of a category under
    it (two levels at most) in the last AUDIENCE_AFFINITY_DAYS. Shoppers who
    refused personalisation are never picked by their behaviour.
    """
    profiles = ShopperProfile.objects.all()
    if campaign.region_id:
        profiles = profiles.filter(region__path__startswith=campaign.region.path)
    for field in ("age_band", "gender", "language", "lifecycle_stage"):
        if value := getattr(campaign, field):
            profiles = profiles.filter(**{field: value})
    if campaign.category_id:
        since = (now or timezone.now()) - dt.timedelta(
            days=int(get_config()["AUDIENCE_AFFINITY_DAYS"]))
        engaged = Event.objects.filter(
            Q(product__category_id=campaign.category_id)
            | Q(product__category__parent_id=campaign.category_id),
            shopper=OuterRef("pk"), type__in=AFFINITY_EVENT_TYPES, created_at__gte=since)
        profiles = profiles.filter(Exists(engaged), consent_personalization=True)
    return profiles


def campaign_audience_size(campaign: Campaign) -> int:
    return campaign_audience(campaign).count()


@transaction.atomic
def campaign_schedule(*, campaign: Campaign, actor) -> int:
    """Schedule a draft campaign; return its audience size.

    Raise PermissionDenied for anyone but staff who see all shoppers, and
    ValidationError when the audience is under the k-threshold or the
    campaign is not a draft.
    """
    if not actor_sees_all(actor):
        raise PermissionDenied(_("Only staff send campaigns."))
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError(_("This campaign is already scheduled."))
    k = int(personalization_config()["K_THRESHOLD"])
    size = campaign_audience_size(campaign)
    if size < k:
        raise ValidationError(
            _("The audience has %(n)d shoppers; campaigns need at least %(k)d, so that no "
              "one can be singled out.") % {"n": size, "k": k}, code="audience_under_k")
    campaign.status = Campaign.Status.SCHEDULED
    campaign.save(update_fields=["status"])
    enqueue_on_commit(campaign_plan_task, campaign_id=campaign.pk)
    return size


def _zones() -> tuple[dict[int, tuple[str, ...]], dict[str, str], zoneinfo.ZoneInfo]:
    """Return region id -> ancestor codes, code -> zone name, and the default zone (one query)."""
    ancestry, zones = {}, {}
    for pk, path, code, name in Region.objects.values_list("pk", "path", "code", "time_zone"):
        ancestry[pk] = tuple(part for part in path.split("/") if part)
        if name:
            zones[code] = name
    return ancestry, zones, zoneinfo.ZoneInfo(get_config()["DEFAULT_TIME_ZONE"])


def campaign_plan(*, campaign_id: int, now: dt.datetime | None = None) -> int:
    """Write the campaign's deferred notifications; return how many rows exist for it."""
    campaign = Campaign.objects.select_related("region").get(pk=campaign_id)
    if campaign.status == Campaign.Status.DRAFT:
        return 0
    now = now or timezone.now()
    ancestry, zones, default = _zones()
    due_by_region: dict[int | None, dt.datetime] = {}

    def zone_for(region_id: int | None) -> zoneinfo.ZoneInfo:
        names = [zones[code] for code in reversed(ancestry.get(region_id, ())) if code in zones]
        return zoneinfo.ZoneInfo(names[0]) if names else default

    # The segment's busiest local hour where it has one (sendtime.py), else the campaign's.
    active = (sendtime.segment_active_hours(on=campaign.send_on, now=now, ancestry=ancestry,
                                            zone_for=zone_for)
              if campaign.active_hour else {})

    def due(region_id: int | None) -> dt.datetime:
        if region_id not in due_by_region:
            hour = active.get(region_id)
            hour = campaign.send_hour if hour is None else hour
            local = dt.datetime.combine(campaign.send_on, dt.time(hour),
                                        tzinfo=zone_for(region_id))
            due_by_region[region_id] = max(local.astimezone(dt.UTC), now)
        return due_by_region[region_id]

    batch: list[Notification] = []
    audience = (campaign_audience(campaign, now=now).values_list("pk", "region_id")
                .order_by("pk"))
    for shopper_id, region_id in audience.iterator(chunk_size=PLAN_BATCH):
        batch.append(Notification(
            shopper_id=shopper_id, kind=Kind.CAMPAIGN, title=campaign.title,
            body=campaign.body, link=campaign.link, dedupe_key=campaign.dedupe_key,
            status=Notification.Status.DEFERRED, reason=Notification.Reason.SCHEDULED,
            send_after=due(region_id)))
        if len(batch) >= PLAN_BATCH:
            Notification.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        Notification.objects.bulk_create(batch, ignore_conflicts=True)
    planned = Notification.objects.filter(dedupe_key=campaign.dedupe_key).count()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PLANNED,
                                                   planned_count=planned)
    return planned


@task()
def campaign_plan_task(*, campaign_id: int) -> int:
    """Plan a scheduled campaign's messages (idempotent: a rerun adds nothing)."""
    return campaign_plan(campaign_id=campaign_id)
