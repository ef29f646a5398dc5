"""Shoppers and what they do: anonymous-first profiles, API tokens, events.

A profile exists from a shopper's first visit, before any account: the feed is
personal from the first tap, and when the shopper later signs in the profile is
linked to the account without losing its history. Nothing here stores a raw
birth date or a raw age; demographics are coarse bands chosen by the shopper.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AgeBand(models.TextChoices):
    # Under-13s are not served at all (COPPA/GDPR-K): there is no band for them.
    TEENS = "13-17", "13–17"
    YOUNG_ADULTS = "18-24", "18–24"
    ADULTS_25 = "25-34", "25–34"
    ADULTS_35 = "35-44", "35–44"
    ADULTS_45 = "45-54", "45–54"
    SENIORS = "55+", "55+"


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "x", _("Another gender")


class LifecycleStage(models.TextChoices):
    NEW = "new", _("New")
    FIRST_ORDER = "first_order", _("First order")
    FORMING = "forming", _("Habit forming")
    HABIT = "habit", _("Habit formed")
    DORMANT = "dormant", _("Dormant")


# Base32 in lower case: no 0/1/8/9 to misread when a code is typed from a
# screenshot, and nothing that needs escaping in a URL.
REFERRAL_CODE_RE = r"[a-z2-7]{8,16}"


def referral_code_new() -> str:
    """Return a new random referral code: 12 base32 characters (60 bits).

    Random, not derived from the profile: a share link must reveal nothing
    about the sharer, and a code that could be guessed would let anyone claim
    credit. Profiles made before codes existed kept the 8-character code their
    share links already carried (migration 0006).
    """
    return base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]


class ShopperProfile(models.Model):
    """One shopper, known by a cookie or token before (and after) any account."""

    # What cookies, tokens, exports and the API refer to; the integer pk never
    # leaves the server, so profiles cannot be enumerated.
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    # The id of this shopper in an imported CSV; empty for shoppers who came
    # through the site or the app.
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="shopper_profile",
    )
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("region"),
    )
    age_band = models.CharField(_("age band"), max_length=5, choices=AgeBand.choices, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    # Validated against settings.LANGUAGES in clean() rather than with choices,
    # so adding a language is a settings change, not a migration.
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Personalisation is on by default: it only uses what the shopper does in
    # this shop (first-party, never shared), it is the product's core value, and
    # the onboarding screen and profile API switch it off in one tap. Analytics
    # beyond that (aggregate reporting about the shopper) is opt-in.
    consent_personalization = models.BooleanField(_("personalisation allowed"), default=True)
    consent_analytics = models.BooleanField(_("analytics allowed"), default=False)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=12, choices=LifecycleStage.choices,
        default=LifecycleStage.NEW,
    )
    orders_count = models.PositiveIntegerField(_("orders"), default=0)
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    # Null only for imported shoppers who have no events yet: they were never
    # "seen", and inventing a visit at import time would hide their dormancy.
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now, null=True,
                                         blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now, null=True,
                                        blank=True)
    # What this shopper's share links carry as ?ref= (never the pk or public id).
    referral_code = models.CharField(_("referral code"), max_length=16, unique=True,
                                     default=referral_code_new, editable=False)
    # The first shared link this shopper arrived by (first touch wins). The
    # time, not the sharer, marks "already referred": a sharer who is later
    # erased leaves referred_by empty but the touch stays taken.
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("referred by"),
    )
    referred_at = models.DateTimeField(_("arrived by a shared link"), null=True, blank=True)

    class Meta:
        verbose_name = _("shopper profile")
        verbose_name_plural = _("shopper profiles")
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""),
                name="shopperprofile_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(age_band__in=["", *AgeBand.values]),
                name="shopperprofile_age_band_valid",
            ),
            models.CheckConstraint(
                condition=Q(gender__in=["", *Gender.values]), name="shopperprofile_gender_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or str(self.public_id)

    def clean(self) -> None:
        languages = {code for code, _name in settings.LANGUAGES}
        if self.language and self.language not in languages:
            message = _("Choose one of: %(codes)s.") % {"codes": ", ".join(sorted(languages))}
            raise ValidationError({"language": message})

    @property
    def public_ref(self) -> str:
        """Return the id used in exports and commands: the CSV id, else the public UUID."""
        return self.external_id or str(self.public_id)


class ShopperToken(models.Model):
    """An API token for app clients; only its SHA-256 is stored.

    A database leak must not hand out working tokens, and since the raw token is
    random (256 bits) a plain, unsalted SHA-256 is enough: there is nothing to
    brute-force as there would be with a password.
    """

    shopper = models.ForeignKey(ShopperProfile, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("shopper token")
        verbose_name_plural = _("shopper tokens")

    def __str__(self) -> str:
        # Never the hash: admin pages and logs show a harmless label only.
        return f"token {self.pk} of {self.shopper_id}"


class EventType(models.TextChoices):
    VIEW = "view", _("View")
    CLICK = "click", _("Click")
    CART = "cart", _("Add to cart")
    PURCHASE = "purchase", _("Purchase")
    SHARE = "share", _("Share")
    HIDE = "hide", _("Not interested")


class EventContext(models.TextChoices):
    FEED = "feed", _("Feed")
    PRODUCT = "product", _("Product page")
    SEARCH = "search", _("Search")
    CATEGORY = "category", _("Category page")
    CART = "cart", _("Cart")
    CHECKOUT = "checkout", _("Checkout")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Event(models.Model):
    """One thing a shopper did with one product. Kept narrow: one cheap INSERT.

    After a shopper is erased their events stay for aggregate statistics with
    `shopper` and `client_event_id` set to NULL, so nothing links them back.
    """

    # The composite (shopper, created_at) index below serves lookups by shopper,
    # so the FK's own index would only slow writes down.
    shopper = models.ForeignKey(
        ShopperProfile, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="events", db_index=False,
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+",
    )
    type = models.CharField(_("type"), max_length=8, choices=EventType.choices)
    context = models.CharField(
        _("context"), max_length=8, choices=EventContext.choices, default=EventContext.OTHER
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # The client's own id for the event: a retried beacon is stored once.
    # Server-made events use ids with a colon ("order:12:34", "imp:..."), which
    # client ids may not contain, so the two can never collide.
    # NULL, not "": "no id" must not collide in the unique constraint, and
    # erasure sets it to NULL.
    client_event_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["shopper", "created_at"], name="event_shopper_created"),
            # The shopper's history as the ranking reads it (selectors.history_get):
            # without feed impressions, which outnumber everything else a shopper
            # does (20 per page scrolled) and which the query would otherwise
            # step over one by one, newest first. The condition must stay
            # exactly the query's exclude() for the planner to use it.
            models.Index(fields=["shopper", "created_at"], name="event_shopper_history",
                         condition=~Q(type="view", context="feed")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shopper", "client_event_id"],
                condition=Q(client_event_id__isnull=False),
                name="event_unique_client_event_id",
            ),
            models.CheckConstraint(
                condition=Q(type__in=EventType.values), name="event_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.product_id} by {self.shopper_id}"

from .affinity import *  # noqa: E402, F401, F403  (affinity tables live in their own module)
