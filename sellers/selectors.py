"""Reads of a seller's cash on delivery: collected by day, remitted, owed.

Cash counts as collected for a seller once an order line records it
(`cod_collected_at`) and the line was not cancelled or returned afterwards
(returned goods are refunded at the door, so that cash is not the seller's).
Days are calendar days in the shop's time zone (settings.TIME_ZONE).
Every function plans its queries up front; the statement is six queries
whatever the number of lines, days or remittances.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Seller
from catalog.services import actor_sees_all, actor_seller
from orders.models import LineStatus, OrderLine

from .models import Remittance

# Cash on these lines went back to the shopper (or was never taken).
_NOT_THE_SELLERS = [LineStatus.CANCELLED, LineStatus.RETURNED]


@dataclass(frozen=True)
class CashTotals:
    """All-time figures of one currency for one seller."""

    currency: str
    collected_minor: int
    remitted_minor: int
    # Delivered lines whose cash nobody has recorded yet: what the courier
    # should be holding, not yet part of what is owed.
    unrecorded_minor: int
    unrecorded_lines: int

    @property
    def owed_minor(self) -> int:
        """Return what the shop still owes (negative: paid ahead of a later return)."""
        return self.collected_minor - self.remitted_minor


@dataclass(frozen=True)
class CashDay:
    day: date
    currency: str
    collected_minor: int
    remitted_minor: int
    owed_minor: int  # at the end of that day


@dataclass(frozen=True)
class CashStatement:
    seller: Seller
    month: date  # the first of the month shown
    totals: list[CashTotals]
    days: list[CashDay]  # newest first
    remittances: list[Remittance]  # of the month, newest first

    @property
    def previous_month(self) -> date:
        return _add_months(self.month, -1)

    @property
    def next_month(self) -> date | None:
        """Return the month after, or None when that is still in the future."""
        following = _add_months(self.month, 1)
        return following if following <= timezone.localdate() else None


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_bounds(month: date) -> tuple[datetime, datetime, date]:
    """Return the month's start and end as aware datetimes, and its last day."""
    zone = timezone.get_current_timezone()
    last = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    start = datetime.combine(month, time.min, tzinfo=zone)
    end = datetime.combine(_add_months(month, 1), time.min, tzinfo=zone)
    return start, end, last


def _collected_lines(seller_id: int) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(seller_id=seller_id, cod_collected_at__isnull=False).exclude(
        status__in=_NOT_THE_SELLERS
    )


def actor_may_view_cash(user) -> bool:
    """Return True when `user` may open some seller's cash statement."""
    if actor_seller(user) is not None:
        return True
    return actor_sees_all(user) and user.has_perm("sellers.view_remittance")


def cash_seller_resolve(*, actor, requested: int | None) -> Seller | None:
    """Return the seller whose cash `actor` asked for, or None when staff asked for none.

    A seller always gets their own statement; asking for another seller's id
    raises Seller.DoesNotExist, the same answer as for an id that does not
    exist, so ids cannot be probed.
    """
    own = actor_seller(actor)
    if own is not None:
        if requested is not None and requested != own.pk:
            raise Seller.DoesNotExist("No such seller.")
        return own
    if not actor_may_view_cash(actor):
        raise PermissionDenied
    if requested is None:
        return None
    return Seller.objects.get(pk=requested)


def sellers_for_picker() -> list[tuple[int, str]]:
    """Return (id, display name) of every seller, for staff's seller choice."""
    return list(Seller.objects.order_by("display_name", "pk").values_list("pk", "display_name"))


def cash_owed_minor(*, seller_id: int, currency: str) -> int:
    """Return what the shop owes `seller_id` in `currency` now (two aggregate queries)."""
    collected = _collected_lines(seller_id).filter(currency=currency).aggregate(
        s=Sum("cod_collected_minor"))["s"] or 0
    remitted = Remittance.objects.filter(seller_id=seller_id, currency=currency).aggregate(
        s=Sum("amount_minor"))["s"] or 0
    return collected - remitted


def cash_statement_get(*, seller: Seller, month: date) -> CashStatement:
    """Return `seller`'s cash totals, and the days and remittances of `month`."""
    start, end, last = _month_bounds(month)
    before = Q(cod_collected_at__lt=start)
    # 1: all-time and before-the-month collected cash, and unrecorded
    # delivered cash, per currency, in one grouped pass over the seller's lines.
    line_rows = (
        OrderLine.objects.filter(seller_id=seller.pk)
        .exclude(status__in=_NOT_THE_SELLERS)
        .values("currency")
        .annotate(
            collected=Sum("cod_collected_minor", filter=Q(cod_collected_at__isnull=False)),
            collected_before=Sum("cod_collected_minor", filter=before),
            unrecorded=Sum(F("unit_price_minor") * F("quantity"),
                           filter=Q(status=LineStatus.DELIVERED, cod_collected_at__isnull=True)),
            unrecorded_lines=Count("pk", filter=Q(status=LineStatus.DELIVERED,
                                                  cod_collected_at__isnull=True)),
        )
        .order_by("currency")
    )
    # 2: all-time and before-the-month remittances per currency.
    remitted_rows = (
        Remittance.objects.filter(seller_id=seller.pk)
        .values("currency")
        .annotate(remitted=Sum("amount_minor"),
                  remitted_before=Sum("amount_minor", filter=Q(paid_on__lt=month)))
        .order_by("currency")
    )
    collected, opening, unrecorded = {}, defaultdict(int), {}
    for row in line_rows:
        collected[row["currency"]] = row["collected"] or 0
        opening[row["currency"]] += row["collected_before"] or 0
        unrecorded[row["currency"]] = (row["unrecorded"] or 0, row["unrecorded_lines"] or 0)
    remitted = {}
    for row in remitted_rows:
        remitted[row["currency"]] = row["remitted"] or 0
        opening[row["currency"]] -= row["remitted_before"] or 0
    currencies = sorted(set(collected) | set(remitted))
    totals = [
        CashTotals(currency=c, collected_minor=collected.get(c, 0),
                   remitted_minor=remitted.get(c, 0),
                   unrecorded_minor=unrecorded.get(c, (0, 0))[0],
                   unrecorded_lines=unrecorded.get(c, (0, 0))[1])
        for c in currencies
    ]
    # 3: the month's collected cash by day and currency.
    zone = timezone.get_current_timezone()
    day_rows = (
        _collected_lines(seller.pk)
        .filter(cod_collected_at__gte=start, cod_collected_at__lt=end)
        .annotate(day=TruncDate("cod_collected_at", tzinfo=zone))
        .values("day", "currency")
        .annotate(collected=Sum("cod_collected_minor"))
        .order_by("day", "currency")
    )
    # 4: the month's remittances (each with who recorded it).
    remittances = list(
        Remittance.objects.filter(seller_id=seller.pk, paid_on__gte=month, paid_on__lte=last)
        .select_related("recorded_by")
        .order_by("-paid_on", "-id")
    )
    per_day: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in day_rows:
        per_day[(row["day"], row["currency"])][0] += row["collected"] or 0
    for remittance in remittances:
        per_day[(remittance.paid_on, remittance.currency)][1] += remittance.amount_minor
    days, balance = [], dict(opening)
    for (day, currency), (got, paid) in sorted(per_day.items()):
        balance[currency] = balance.get(currency, 0) + got - paid
        days.append(CashDay(day=day, currency=currency, collected_minor=got,
                            remitted_minor=paid, owed_minor=balance[currency]))
    days.reverse()
    return CashStatement(seller=seller, month=month, totals=totals, days=days,
                         remittances=remittances)


def remittances_for_export(*, seller_id: int) -> Iterator[Remittance]:
    """Yield every remittance of the seller, oldest first, in one streamed query."""
    return (
        Remittance.objects.filter(seller_id=seller_id)
        .only("paid_on", "currency", "amount_minor", "reference", "note", "recorded_at")
        .order_by("paid_on", "id")
        .iterator(chunk_size=2000)
    )
