"""Seller sign-up from the storefront: apply, wait for staff, then sell.

An application makes a login at once (username = the mobile number in
E.164; not staff, so the admin stays shut) so the applicant can sign in on
/sell/status/ and see where it stands. Staff approve it (the login becomes a
seller: catalog.services.seller_attach) or refuse it with a reason the
applicant reads there.

No account enumeration: applying with a number that already has an account
writes nothing and answers exactly as a new application does (the same
redirect, the same page, a password hashed either way so the timing matches
too); only the owner, signing in, sees a state. Without an SMS provider the
number is not proven to be the applicant's; staff call it before approving
(docs/ARCHITECTURE.md, "Sellers").
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Region
from catalog.services import actor_sees_all, seller_attach
from core.throttle_cache import throttle_cache
from orders import addressing

from .models import ApplicationStatus, SellerApplication


def signup_setting(name: str):
    """Return one of the sign-up settings (read at call time, so tests can override)."""
    defaults = {
        # Which terms the form's tick box accepts; bump it when the terms change.
        "SELLER_TERMS_VERSION": "2026-01",
        # Sign-up posts per client address per window (valid or not).
        "SELLER_SIGNUP_LIMIT": 5,
        "SELLER_SIGNUP_WINDOW": 3600,
    }
    return getattr(settings, name, defaults[name])


def signup_throttled(*, client: str) -> bool:
    """Count one sign-up attempt from `client`; return True when it is over the limit."""
    cache = throttle_cache()
    key = f"seller-signup:{client}"
    window = signup_setting("SELLER_SIGNUP_WINDOW")
    if cache.add(key, 1, window):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
            count = 1
    return count > signup_setting("SELLER_SIGNUP_LIMIT")


def phone_candidates(raw: str) -> list[str]:
    """Return the E.164 numbers `raw` could be, in the order of the countries we serve."""
    found = []
    for country in addressing.COUNTRY_RULES:
        try:
            number = addressing.normalise_phone(raw, country)
        except ValidationError:
            continue
        if number not in found:
            found.append(number)
    return found


def seller_application_submit(
    *, display_name: str, phone: str, region: Region | None, email: str, password: str,
    terms_accepted: bool,
) -> SellerApplication | None:
    """Apply to sell; return the new application, or None when the number already has an account.

    Raise ValidationError with every field's message on bad input; nothing is
    written then. The None case must look like success to the caller's
    visitor (no account enumeration).
    """
    errors: dict[str, list[str]] = {}
    display_name = " ".join((display_name or "").split())
    email = (email or "").strip()
    if not 2 <= len(display_name) <= 100:
        errors["display_name"] = [_("Enter your shop's name (2 to 100 characters).")]
    if region is None:
        errors["region"] = [_("Choose where you sell from.")]
    else:
        try:
            phone = addressing.normalise_phone(phone, region.ancestor_codes()[0])
        except ValidationError as exc:
            errors["phone"] = exc.messages
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address, or leave it empty.")]
    User = get_user_model()
    try:
        validate_password(password or "", user=User(username=phone, email=email))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if not terms_accepted:
        errors["terms"] = [_("Accept the seller terms to continue.")]
    if errors:
        raise ValidationError(errors)

    hashed = make_password(password)  # hashed whether or not it is used: equal timing
    taken = (User._default_manager.filter(username__iexact=phone).exists()
             or SellerApplication.objects.filter(phone=phone).exists())
    if taken:
        return None
    try:
        with transaction.atomic():
            user = User._default_manager.create(
                username=phone, email=email, password=hashed, is_staff=False,
                is_superuser=False,
            )
            return SellerApplication.objects.create(
                user=user, display_name=display_name, phone=phone, region=region, email=email,
                terms_version=signup_setting("SELLER_TERMS_VERSION"),
            )
    except IntegrityError:
        # The same number applied a moment ago in another request.
        return None


def seller_application_for_user(user) -> SellerApplication | None:
    """Return `user`'s application (with its region), or None."""
    if not user.is_authenticated:
        return None
    return SellerApplication.objects.select_related("region").filter(user=user).first()


def _decide_check(actor) -> None:
    if not (actor_sees_all(actor) and actor.has_perm("sellers.change_sellerapplication")):
        raise PermissionDenied(_("Only staff decide on seller applications."))


def _locked_pending(application_id: int) -> SellerApplication:
    application = (SellerApplication.objects.select_for_update().select_related("user", "region")
                   .get(pk=application_id))
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(
            _("%(name)s was already %(status)s.")
            % {"name": application.display_name,
               "status": application.get_status_display().lower()},
            code="decided",
        )
    return application


@transaction.atomic
def seller_application_approve(*, actor, application_id: int) -> SellerApplication:
    """Approve a pending application: its login becomes a seller. Return the application."""
    _decide_check(actor)
    application = _locked_pending(application_id)
    seller = seller_attach(user=application.user, display_name=application.display_name,
                           region=application.region, phone=application.phone)
    application.status = ApplicationStatus.APPROVED
    application.reason = ""
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.seller = seller
    application.save(update_fields=["status", "reason", "decided_at", "decided_by", "seller"])
    return application


@transaction.atomic
def seller_application_refuse(*, actor, application_id: int, reason: str) -> SellerApplication:
    """Refuse a pending application with a reason the applicant will read."""
    _decide_check(actor)
    reason = (reason or "").strip()
    if not 5 <= len(reason) <= 500:
        raise ValidationError({"reason": _("Tell the applicant why (5 to 500 characters).")})
    application = _locked_pending(application_id)
    application.status = ApplicationStatus.REFUSED
    application.reason = reason
    application.decided_at = timezone.now()
    application.decided_by = actor
    application.save(update_fields=["status", "reason", "decided_at", "decided_by"])
    return application
