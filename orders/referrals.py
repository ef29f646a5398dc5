"""Referral credit: a friend's order placed within days of arriving by a shared link.

The arrival is the profile's (personalization: `referred_by`, `referred_at`,
noted from `?ref=` by the storefront and the shopper API). Crediting belongs
here, next to the order it counts: `referral_credit_for_order` runs inside the
order's own transaction (services._place), so the credit commits with the
order or not at all, a replayed placement (same idempotency key) never reaches
it, and the unique constraint on the order backs that against anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDay

from .models import Order, ReferralCredit, orders_setting


def referral_window() -> timedelta:
    return timedelta(days=orders_setting("ORDERS_REFERRAL_WINDOW_DAYS"))


def referral_credit_for_order(*, order: Order, shopper, placed_at: datetime
                              ) -> ReferralCredit | None:
    """Credit the sharer whose link `shopper` arrived by for `order`; return the credit.

    None when there is nothing to credit: the shopper arrived by no link (or the
    sharer has since been erased), arrived more than the window before the
    order, or is the sharer (a profile merged into its own sharer's). Calling it
    again for the same order returns the credit already made.
    """
    sharer_id, arrived_at = shopper.referred_by_id, shopper.referred_at
    if sharer_id is None or arrived_at is None or sharer_id == shopper.pk:
        return None
    if not arrived_at <= placed_at <= arrived_at + referral_window():
        return None
    try:
        # A savepoint: a concurrent duplicate must not break the caller's transaction.
        with transaction.atomic():
            return ReferralCredit.objects.create(order=order, referrer_id=sharer_id,
                                                 referred_id=shopper.pk, arrived_at=arrived_at,
                                                 created_at=placed_at)
    except IntegrityError:
        existing = ReferralCredit.objects.filter(order=order).first()
        if existing is None:
            raise
        return existing


@dataclass(frozen=True)
class ReferralSummary:
    code: str
    friends: int  # distinct friends whose orders were credited
    orders: int  # their credited orders
    window_days: int


def referral_summary_get(*, shopper) -> ReferralSummary:
    """Return what the sharer's links earned (one aggregate query)."""
    totals = ReferralCredit.objects.filter(referrer_id=shopper.pk).aggregate(
        friends=Count("referred", distinct=True), orders=Count("pk"),
        # An erased friend's credits no longer name them: each counts as one.
        gone=Count("pk", filter=Q(referred__isnull=True)),
    )
    return ReferralSummary(code=shopper.referral_code, friends=totals["friends"] + totals["gone"],
                           orders=totals["orders"],
                           window_days=orders_setting("ORDERS_REFERRAL_WINDOW_DAYS"))


# --- Privacy (registered in orders/privacy.py) -------------------------------------------


def referrals_export(shopper) -> dict:
    """Return the shopper's credits as sharer and which of their own orders credited someone.

    Who the friends are, or who shared, is the other person's data: only times
    and the shopper's own order numbers are given.
    """
    return {
        "credits_earned": [
            {"credited_at": created.isoformat()}
            for created in ReferralCredit.objects.filter(referrer=shopper)
            .order_by("created_at", "pk").values_list("created_at", flat=True)
        ],
        "orders_credited_to_sharer": list(
            ReferralCredit.objects.filter(referred=shopper).order_by("created_at", "pk")
            .values_list("order__public_id", flat=True)
        ),
    }


def referrals_erase(shopper) -> None:
    """Unlink the shopper from every credit, on either side; the credits stay as counts.

    Sellers' figures keep the referred orders; the arrival time is cut to the
    day (as erased events are), so it cannot be matched back to a visit.
    """
    ReferralCredit.objects.filter(referrer=shopper).update(
        referrer=None, arrived_at=TruncDay("arrived_at"))
    ReferralCredit.objects.filter(referred=shopper).update(
        referred=None, arrived_at=TruncDay("arrived_at"))


def referrals_merge(source, target) -> None:
    """Move credits of `source` to `target` on sign-in; drop those that became self-referral."""
    ReferralCredit.objects.filter(referrer=source).update(referrer=target)
    ReferralCredit.objects.filter(referred=source).update(referred=target)
    ReferralCredit.objects.filter(referrer=target, referred=target).delete()
