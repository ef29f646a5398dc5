"""Habit nudges: one message a week by lifecycle stage (first order, forming, dormant).

The habit point is 4 orders in the first 120 days (personalization.lifecycle);
a shopper after the first order, one forming the habit and one gone quiet each
get one nudge per ISO week at most (the dedupe key), through the usual caps,
quiet hours and stops. Only shoppers with a push subscription are nudged: an
inbox row for someone who does not come back would never be read, and anonymous
profiles (crawlers among them) would grow the table every week.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from personalization.models import LifecycleStage, ShopperProfile

from .models import Kind, Notification, PushSubscription
from .services import notification_create

STAGES = (LifecycleStage.FIRST_ORDER, LifecycleStage.FORMING, LifecycleStage.DORMANT)


def _message(stage: str) -> tuple[str, str]:
    if stage == LifecycleStage.FIRST_ORDER:
        return (_("Thank you for your first order"),
                _("New arrivals near you today. Pay cash on delivery, as before."))
    if stage == LifecycleStage.FORMING:
        return (_("New picks for you"), _("Fresh items chosen for you. Cash on delivery."))
    return (_("We miss you"), _("Fresh deals near you. Pay cash on delivery."))


def habit_nudges_send(*, now: dt.datetime | None = None, limit: int = 5000) -> list[int]:
    """Nudge this week's shoppers by stage; return the ids of the messages sent now."""
    now = now or timezone.now()
    year, week, _day = now.isocalendar()
    subscribed = PushSubscription.objects.filter(shopper=OuterRef("pk"))
    shoppers = (ShopperProfile.objects.filter(lifecycle_stage__in=STAGES)
                .filter(Exists(subscribed)).select_related("region").order_by("pk")[:limit])
    sent = []
    for shopper in shoppers:
        language = shopper.language or (shopper.region.language if shopper.region_id else "")
        with translation.override(language or translation.get_language()):
            title, body = _message(shopper.lifecycle_stage)
        note, created = notification_create(
            shopper=shopper, kind=Kind.HABIT_NUDGE, title=title, body=body, link="/",
            dedupe_key=f"habit:{shopper.lifecycle_stage}:{year}-W{week:02d}", now=now)
        if created and note.status == Notification.Status.SENT:
            sent.append(note.pk)
    return sent
