"""Writes of the sellers app: recording a cash remittance.

The admin calls these; they check the actor themselves, so a forged POST
reaches nothing.
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Seller
from catalog.money import format_money
from catalog.services import actor_sees_all

from .models import Remittance
from .selectors import cash_owed_minor

_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def remittance_check(
    *, seller: Seller, amount_minor: int | None, currency: str, paid_on: date | None,
    reference: str,
) -> tuple[str, str]:
    """Return the normalised (currency, reference); raise ValidationError naming each bad field.

    A remittance may not exceed what is owed in its currency: the shop pays
    cash it collected, never an advance, so a mistyped extra zero is refused
    instead of leaving the seller's balance negative.
    """
    errors: dict[str, list[str]] = {}
    currency = (currency or "").strip().upper()
    reference = " ".join((reference or "").split())
    if not _CURRENCY_RE.fullmatch(currency):
        errors["currency"] = [_("Enter a three-letter currency code, e.g. INR.")]
    if not reference:
        errors["reference"] = [_("Enter the payment's reference (UTR, UPI or receipt number).")]
    elif Remittance.objects.filter(seller=seller, reference__iexact=reference).exists():
        errors["reference"] = [_("A remittance with this reference is already recorded for "
                                 "this seller.")]
    if paid_on is None:
        errors["paid_on"] = [_("Enter the date the money was paid.")]
    elif paid_on > timezone.localdate():
        errors["paid_on"] = [_("The date paid cannot be in the future.")]
    if amount_minor is None or amount_minor <= 0:
        errors["amount_minor"] = [_("Enter an amount above zero.")]
    elif "currency" not in errors:
        owed = cash_owed_minor(seller_id=seller.pk, currency=currency)
        if amount_minor > owed:
            errors["amount_minor"] = [
                _("That is more than the %(owed)s owed to this seller in %(currency)s.")
                % {"owed": format_money(max(owed, 0), currency), "currency": currency}
            ]
    if errors:
        raise ValidationError(errors)
    return currency, reference


@transaction.atomic
def remittance_record(
    *, actor, seller: Seller, amount_minor: int, currency: str, paid_on: date,
    reference: str, note: str = "",
) -> Remittance:
    """Record that the shop paid `seller` `amount_minor` of collected cash; return the row.

    Staff with the add permission only (PermissionDenied otherwise).
    ValidationError as in remittance_check(); nothing is written then.
    """
    if not (actor_sees_all(actor) and actor.has_perm("sellers.add_remittance")):
        raise PermissionDenied(_("Only staff record remittances."))
    # One writer per seller at a time: two clerks recording the same payment
    # would each see it as still owed (PostgreSQL; SQLite already runs one
    # writer at a time).
    seller = Seller.objects.select_for_update().get(pk=seller.pk)
    currency, reference = remittance_check(
        seller=seller, amount_minor=amount_minor, currency=currency, paid_on=paid_on,
        reference=reference,
    )
    remittance = Remittance(
        seller=seller, amount_minor=amount_minor, currency=currency, paid_on=paid_on,
        reference=reference, note=" ".join((note or "").split()), recorded_by=actor,
    )
    remittance.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            remittance.save()
    except IntegrityError:
        # The unique reference, hit by a concurrent double submit.
        raise ValidationError(
            {"reference": [_("A remittance with this reference is already recorded for "
                             "this seller.")]}
        ) from None
    return remittance
