"""All writes about shoppers: profiles, tokens, events, linking, export, erasure.

Every service is keyword-only and typed; the middleware, the API, the order
flow and the commands call these, so they all behave the same.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from catalog.models import Product, Region
from core.db import CompiledQuery, instances_from_row, model_columns

from . import privacy
from .conf import get_config
from .importers import datetime_adapter
from .impressions import impressions_write
from .lifecycle import shopper_lifecycle_refresh
from .models import (
    REFERRAL_CODE_RE,
    AgeBand,
    Event,
    EventContext,
    EventType,
    Gender,
    LifecycleStage,
    ShopperProfile,
    ShopperToken,
)


class _Unset:
    """Marks an argument that was not passed (None means "clear the field")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

# Client event ids: what a UUID, a ULID or a counter looks like, and never a
# colon, which server-made ids ("order:12:34", "imp:...") use.
CLIENT_EVENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Clients may send these types; purchases come only from the order flow, so a
# client cannot inflate sales or fake a lifecycle stage.
CLIENT_EVENT_TYPES = frozenset(EventType.values) - {EventType.PURCHASE}
# "Not interested" is an instruction, not tracking: it stays linked even when
# personalisation is off, or the hidden item would come back.
_ALWAYS_LINKED_TYPES = frozenset({EventType.HIDE, EventType.PURCHASE})
_TOKEN_MAX_LENGTH = 200


# --- Tokens and anonymous profiles ------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def shopper_token_create(*, shopper: ShopperProfile) -> str:
    """Return a new raw API token for `shopper`; only its hash is kept, so show it once."""
    token = secrets.token_urlsafe(32)
    ShopperToken.objects.create(shopper=shopper, key_hash=_hash_token(token))
    return token


def shopper_create(*, user: AbstractBaseUser | None = None) -> ShopperProfile:
    """Create a profile with no personal data (a first visit), linked to `user` if given."""
    shopper = ShopperProfile(user=user)
    shopper.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
    shopper.save()
    return shopper


@transaction.atomic
def shopper_create_anonymous(*, user: AbstractBaseUser | None = None
                             ) -> tuple[ShopperProfile, str]:
    """Create a profile with no personal data and return it with its raw API token."""
    shopper = shopper_create(user=user)
    return shopper, shopper_token_create(shopper=shopper)


# Every API call reads this: the token and its shopper as one row, compiled
# once (core/db.py), instances built with Model.from_db.
_token_with_shopper = CompiledQuery(
    lambda _shape, key_hash: ShopperToken.objects.filter(key_hash=key_hash).order_by("pk")
    .values_list(*model_columns(ShopperToken), *model_columns(ShopperProfile, "shopper__"))[:1]
)


def shopper_from_token(token: str) -> ShopperProfile | None:
    """Return the profile this raw token belongs to, or None; note its use hourly at most."""
    if not token or len(token) > _TOKEN_MAX_LENGTH:
        return None
    alias = router.db_for_read(ShopperToken)
    rows = _token_with_shopper.rows(alias=alias, key_hash=_hash_token(token))
    if not rows:
        return None
    row, shopper = instances_from_row(alias, rows[0], ShopperToken, ShopperProfile)
    now = timezone.now()
    resolution = timedelta(seconds=get_config()["LAST_SEEN_RESOLUTION_SECONDS"])
    if row.last_used_at is None or now - row.last_used_at >= resolution:
        ShopperToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return shopper


# --- Profile ------------------------------------------------------------------------


def shopper_profile_update(
    *,
    shopper: ShopperProfile,
    region_code: str | None = UNSET,
    age_band: str | None = UNSET,
    gender: str | None = UNSET,
    language: str | None = UNSET,
    consent_personalization: bool = UNSET,
    consent_analytics: bool = UNSET,
) -> ShopperProfile:
    """Change the given fields (None or "" clears one); raise ValidationError per field.

    Every field is optional: the onboarding screen is one tap to skip, and a
    shopper may take any answer back at any time.
    """
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}

    if region_code is not UNSET:
        if region_code in (None, ""):
            changes["region"] = None
        elif not isinstance(region_code, str):
            errors["region_code"] = [_("Send a region code as text.")]
        else:
            region = Region.objects.filter(code=region_code).first()
            if region is None:
                errors["region_code"] = [_("Unknown region %(code)s.") % {"code": region_code}]
            else:
                changes["region"] = region
    choice_fields = {
        "age_band": (age_band, AgeBand.values),
        "gender": (gender, Gender.values),
        "language": (language, [code for code, _name in settings.LANGUAGES]),
    }
    for name, (value, allowed) in choice_fields.items():
        if value is UNSET:
            continue
        if value in (None, ""):
            changes[name] = ""
        elif value not in allowed:
            errors[name] = [_("Choose one of: %(values)s, or leave it empty.")
                            % {"values": ", ".join(allowed)}]
        else:
            changes[name] = value
    for name, value in (("consent_personalization", consent_personalization),
                        ("consent_analytics", consent_analytics)):
        if value is UNSET:
            continue
        if not isinstance(value, bool):
            errors[name] = [_("Send true or false.")]
        else:
            changes[name] = value
    if errors:
        raise ValidationError(errors)

    changed = [name for name, value in changes.items() if getattr(shopper, name) != value]
    if not changed:
        return shopper
    with transaction.atomic():
        for name in changed:
            setattr(shopper, name, changes[name])
        shopper.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
        # Only the changed columns: a concurrent update of another field survives.
        shopper.save(update_fields=changed)
    return shopper


# --- Referrals ------------------------------------------------------------------------

_REFERRAL_CODE = re.compile(REFERRAL_CODE_RE)


def referral_code_valid(code: object) -> bool:
    """Return True when `code` has the shape of a referral code (no query)."""
    return isinstance(code, str) and _REFERRAL_CODE.fullmatch(code) is not None


def shopper_referral_arrive(*, shopper: ShopperProfile, code: object,
                            now: datetime | None = None) -> bool:
    """Note that `shopper` arrived by the shared link carrying `code`; return if noted.

    First touch wins: a shopper who already arrived by a link keeps that one.
    A code that is malformed, unknown or the shopper's own is ignored without
    a word, since the shopper did nothing wrong by following a link. One
    conditional UPDATE, so two tabs opened from two links at once cannot both
    win: the database keeps whichever lands first.
    """
    if shopper is None or shopper.referred_at is not None or not referral_code_valid(code):
        return False
    if code == shopper.referral_code:
        return False
    sharer_id = (ShopperProfile.objects.filter(referral_code=code)
                 .values_list("pk", flat=True).first())
    if sharer_id is None or sharer_id == shopper.pk:
        return False
    now = now or timezone.now()
    noted = ShopperProfile.objects.filter(pk=shopper.pk, referred_at__isnull=True).update(
        referred_by_id=sharer_id, referred_at=now)
    if noted:
        shopper.referred_by_id, shopper.referred_at = sharer_id, now
    return bool(noted)


# --- Linking to an account ------------------------------------------------------------


@transaction.atomic
def shopper_link_user(*, shopper: ShopperProfile, user: AbstractBaseUser) -> ShopperProfile:
    """Attach `shopper` to `user` and return the profile the user should now use.

    - No profile for the user yet: this one is linked.
    - The user already has another profile: this (anonymous) one is merged into
      it: events, tokens and other apps' rows move over, and blank profile
      fields are filled; the merged profile is deleted.
    - This profile belongs to another account (a shared phone): it is left
      alone and the user's own profile (created if need be) is returned.
    """
    if shopper.user_id == user.pk:
        return shopper
    # The account's profile is locked first, then this one: every login takes
    # them in that order, so two concurrent logins of one account serialise
    # instead of both linking or deadlocking.
    existing = ShopperProfile.objects.select_for_update().filter(user=user).first()
    locked = ShopperProfile.objects.select_for_update().get(pk=shopper.pk)
    if locked.user_id is not None and locked.user_id != user.pk:
        if existing is not None:
            return existing
        return shopper_create(user=user)
    if existing is None:
        locked.user = user
        locked.save(update_fields=["user"])
        return locked
    _merge(source=locked, target=existing)
    return existing


def _merge(*, source: ShopperProfile, target: ShopperProfile) -> None:
    for merger in privacy.mergers():
        merger(source, target)
    # The same client event id under both profiles is the same beacon sent under
    # two identities: keep one copy.
    target_ids = Event.objects.filter(shopper=target, client_event_id__isnull=False).values(
        "client_event_id"
    )
    Event.objects.filter(shopper=source, client_event_id__in=target_ids).delete()
    Event.objects.filter(shopper=source).update(shopper=target)
    ShopperToken.objects.filter(shopper=source).update(shopper=target)

    fields = []
    for name in ("region", "age_band", "gender", "language", "external_id"):
        if not getattr(target, name) and getattr(source, name):
            setattr(target, name, getattr(source, name))
            fields.append(name)
    # The stricter consent wins: a "no" given on either profile is kept.
    for name in ("consent_personalization", "consent_analytics"):
        if getattr(target, name) and not getattr(source, name):
            setattr(target, name, False)
            fields.append(name)
    # Referrals: the earlier first touch wins, but never one by the same person
    # under their other profile (that would be self-referral after all).
    if target.referred_by_id == source.pk:
        target.referred_by = None
        fields.append("referred_by")
    if (source.referred_at is not None and source.referred_by_id != target.pk
            and (target.referred_at is None or source.referred_at < target.referred_at)):
        target.referred_by_id, target.referred_at = source.referred_by_id, source.referred_at
        fields += ["referred_by", "referred_at"]
    # Friends who came by the source's links came by the target's.
    ShopperProfile.objects.filter(referred_by=source).exclude(pk=target.pk).update(
        referred_by=target)
    seen = [t for t in (source.first_seen_at, target.first_seen_at) if t]
    if seen and min(seen) != target.first_seen_at:
        target.first_seen_at = min(seen)
        fields.append("first_seen_at")
    seen = [t for t in (source.last_seen_at, target.last_seen_at) if t]
    if seen and max(seen) != target.last_seen_at:
        target.last_seen_at = max(seen)
        fields.append("last_seen_at")
    # Deleted before the target is saved, since external_id is unique. When both
    # came from a CSV the target keeps its own id; the source's events now
    # carry it, so nothing is lost.
    source.delete()
    if fields:
        target.save(update_fields=list(dict.fromkeys(fields)))
    shopper_lifecycle_refresh(shopper=target)


# --- Events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventError:
    index: int  # position of the event in the batch, from 0
    errors: dict[str, list[str]]


@dataclass
class BatchResult:
    accepted: int = 0
    duplicates: int = 0
    errors: list[EventError] = field(default_factory=list)


def _owner(shopper: ShopperProfile, type: str) -> ShopperProfile | None:
    """Return who an event is stored under: nobody when personalisation is off."""
    if shopper.consent_personalization or type in _ALWAYS_LINKED_TYPES:
        return shopper
    return None


def event_record(*, shopper: ShopperProfile, product_id: int, type: str,
                 context: str = EventContext.OTHER) -> Event:
    """Record one server-side event (the caller has the product in hand): one INSERT."""
    errors = {}
    if type not in CLIENT_EVENT_TYPES:
        errors["type"] = [_("Purchases are recorded by the order flow.")
                          if type == EventType.PURCHASE else _("Unknown event type.")]
    # "import" marks CSV rows only (the importer finds its own rows by it).
    if context == EventContext.IMPORT or context not in EventContext.values:
        errors["context"] = [_("Unknown context.")]
    if errors:
        raise ValidationError(errors)
    return Event.objects.create(
        shopper=_owner(shopper, type), product_id=product_id, type=type, context=context
    )


# Ids above a signed 64-bit integer cannot exist and overflow the database driver.
_MAX_DB_ID = 2**63 - 1


def _parse_event(raw: Any, now: datetime, config: dict) -> tuple[dict, dict[str, list[str]]]:
    """Return (clean values, field errors) for one event of a client batch."""
    if not isinstance(raw, dict):
        return {}, {"non_field_errors": [_("Each event must be an object.")]}
    errors: dict[str, list[str]] = {}
    allowed = {"product_id", "type", "context", "client_event_id", "occurred_at"}
    for name in sorted(set(raw) - allowed):
        errors[str(name)[:64]] = [_("Unknown field.")]
    clean: dict[str, Any] = {}

    product_id = raw.get("product_id")
    if product_id is None:
        errors["product_id"] = [_("This field is required.")]
    elif (isinstance(product_id, bool) or not isinstance(product_id, int)
          or not 1 <= product_id <= _MAX_DB_ID):
        errors["product_id"] = [_("Send a product id (a positive integer).")]
    else:
        clean["product_id"] = product_id

    type = raw.get("type")
    if type is None:
        errors["type"] = [_("This field is required.")]
    elif not isinstance(type, str):
        errors["type"] = [_("Send the event type as a string.")]
    elif type == EventType.PURCHASE:
        errors["type"] = [_("Purchases are recorded when an order is placed, not by clients.")]
    elif type not in CLIENT_EVENT_TYPES:
        errors["type"] = [_("Choose one of: %(values)s.")
                          % {"values": ", ".join(sorted(CLIENT_EVENT_TYPES))}]
    else:
        clean["type"] = type

    context = raw.get("context", EventContext.OTHER)
    if (not isinstance(context, str) or context == EventContext.IMPORT
            or context not in EventContext.values):
        errors["context"] = [_("Unknown context.")]
    else:
        clean["context"] = context

    client_event_id = raw.get("client_event_id")
    if client_event_id is not None:
        if not isinstance(client_event_id, str) or not CLIENT_EVENT_ID_RE.match(client_event_id):
            errors["client_event_id"] = [
                _("Use 1 to 64 letters, digits, '-' or '_'.")
            ]
        else:
            clean["client_event_id"] = client_event_id

    occurred_at = raw.get("occurred_at")
    if occurred_at is None:
        clean["created_at"] = now
    else:
        try:
            parsed = parse_datetime(occurred_at) if isinstance(occurred_at, str) else None
        except ValueError:  # well-formed but impossible, e.g. minute 99
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            errors["occurred_at"] = [_("Send an ISO 8601 date-time with a time zone.")]
        elif parsed > now + timedelta(seconds=config["CLIENT_CLOCK_SKEW_SECONDS"]):
            errors["occurred_at"] = [_("This time is in the future.")]
        elif parsed < now - timedelta(days=config["CLIENT_EVENT_MAX_AGE_DAYS"]):
            errors["occurred_at"] = [_("Events older than %(days)d days are not accepted.")
                                     % {"days": config["CLIENT_EVENT_MAX_AGE_DAYS"]}]
        else:
            clean["created_at"] = min(parsed, now)
    return clean, errors


def events_record_batch(*, shopper: ShopperProfile, events: list[dict]) -> BatchResult:
    """Validate and store a client's batch; return accepted, duplicate and per-event errors.

    Valid events are stored even when others in the batch are not (a beacon
    cannot be retried piecemeal). A batch larger than BATCH_MAX_EVENTS is
    refused as a whole with a ValidationError. An event whose client_event_id
    was already stored for this shopper (a retried beacon) is a duplicate.
    """
    config = get_config()
    if not isinstance(events, list):
        raise ValidationError({"events": [_("Send a list of events.")]})
    if len(events) > config["BATCH_MAX_EVENTS"]:
        raise ValidationError({"events": [
            _("At most %(max)d events per batch; this one has %(n)d.")
            % {"max": config["BATCH_MAX_EVENTS"], "n": len(events)}
        ]})
    now = timezone.now()
    result = BatchResult()
    parsed: list[tuple[int, dict]] = []
    for index, raw in enumerate(events):
        clean, errors = _parse_event(raw, now, config)
        if errors:
            result.errors.append(EventError(index, errors))
        else:
            parsed.append((index, clean))

    wanted = {clean["product_id"] for _index, clean in parsed}
    available = set(
        Product.objects.published_among(wanted).values_list("pk", flat=True)
    ) if wanted else set()

    rows: list[Event] = []
    seen_ids: set[str] = set()
    with transaction.atomic():
        if parsed:
            # Serialise batches of one shopper, so a beacon retried while the
            # first copy is still being written is counted as a duplicate.
            ShopperProfile.objects.select_for_update().filter(pk=shopper.pk).values("pk").first()
        client_ids = [c["client_event_id"] for _i, c in parsed if "client_event_id" in c]
        stored = set(
            Event.objects.filter(shopper=shopper, client_event_id__in=client_ids)
            .values_list("client_event_id", flat=True)
        ) if client_ids else set()
        for index, clean in parsed:
            if clean["product_id"] not in available:
                result.errors.append(
                    EventError(index, {"product_id": [_("Unknown or unavailable product.")]})
                )
                continue
            client_id = clean.get("client_event_id")
            if client_id is not None and (client_id in seen_ids or client_id in stored):
                result.duplicates += 1
                continue
            owner = _owner(shopper, clean["type"])
            if client_id is not None:
                seen_ids.add(client_id)
            rows.append(Event(
                shopper=owner, product_id=clean["product_id"], type=clean["type"],
                context=clean["context"], created_at=clean["created_at"],
                # Unlinked events keep no device-made id that could link them.
                client_event_id=client_id if owner is not None else None,
            ))
        if rows:
            Event.objects.bulk_create(rows, ignore_conflicts=True)
    result.accepted = len(rows)
    result.errors.sort(key=lambda error: error.index)
    return result


def feed_impressions_record(*, shopper, product_ids: list[int], context: str = "feed") -> int:
    """Record a `view` event for each card of a rendered feed page; return the count.

    Written in batches off the request path (personalization/impressions.py).

    Not through `events_record_batch`: that validates untrusted client input
    (product lookup, row lock, duplicate check: four queries), while these ids
    come straight from the ranking and the cards just rendered. The consent
    rule is the same: with personalisation off the events are kept for
    aggregate statistics only, linked to nobody.
    """
    if shopper is None or not product_ids:
        return 0
    owner_id = shopper.pk if shopper.consent_personalization else None
    now = datetime_adapter()(timezone.now())
    # The importer's raw INSERT rows (a third of the cost of bulk_create's
    # model instances), written after the response by this process's
    # impressions writer (personalization/impressions.py).
    impressions_write([(owner_id, pk, EventType.VIEW.value, context, now, None)
                       for pk in product_ids])
    return len(product_ids)


@transaction.atomic
def shopper_order_placed(*, shopper: ShopperProfile, order_id: int | str,
                         product_ids: list[int], placed_at: datetime) -> bool:
    """Record the purchase events of an order and move the lifecycle stage.

    Idempotent: the events carry "order:<id>:<product>" ids, so a retried call
    records nothing twice; returns whether anything was recorded.
    """
    if timezone.is_naive(placed_at):
        raise ValidationError({"placed_at": [_("Send an aware date-time.")]})
    locked = ShopperProfile.objects.select_for_update().get(pk=shopper.pk)
    ids = {f"order:{order_id}:{pid}": pid for pid in dict.fromkeys(product_ids)}
    stored = set(Event.objects.filter(shopper=locked, client_event_id__in=list(ids))
                 .values_list("client_event_id", flat=True))
    new = [
        Event(shopper=locked, product_id=product_id, type=EventType.PURCHASE,
              context=EventContext.CHECKOUT, created_at=placed_at, client_event_id=client_id)
        for client_id, product_id in ids.items() if client_id not in stored
    ]
    if not new:
        return False
    Event.objects.bulk_create(new)
    # Placing an order is a visit.
    if locked.last_seen_at is None or locked.last_seen_at < placed_at:
        locked.last_seen_at = placed_at
        locked.first_seen_at = locked.first_seen_at or placed_at
        locked.save(update_fields=["last_seen_at", "first_seen_at"])
    shopper_lifecycle_refresh(shopper=locked, now=max(placed_at, timezone.now()))
    for name in ("orders_count", "first_order_at", "lifecycle_stage", "last_seen_at",
                 "first_seen_at"):
        setattr(shopper, name, getattr(locked, name))
    return True


def shopper_seen(*, shopper: ShopperProfile, now: datetime | None = None) -> bool:
    """Note a visit, writing at most once per LAST_SEEN_RESOLUTION_SECONDS; return if written.

    A dormant shopper who comes back leaves dormancy at once.
    """
    now = now or timezone.now()
    resolution = timedelta(seconds=get_config()["LAST_SEEN_RESOLUTION_SECONDS"])
    if shopper.last_seen_at is not None and now - shopper.last_seen_at < resolution:
        return False
    shopper.last_seen_at = now
    fields = {"last_seen_at": now}
    if shopper.first_seen_at is None:  # an imported shopper's first real visit
        shopper.first_seen_at = fields["first_seen_at"] = now
    ShopperProfile.objects.filter(pk=shopper.pk).update(**fields)
    if shopper.lifecycle_stage == LifecycleStage.DORMANT:
        shopper_lifecycle_refresh(shopper=shopper, now=now)
    return True


# --- Export and erasure -------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def shopper_export(*, shopper: ShopperProfile) -> dict:
    """Return everything held about `shopper` as JSON-serialisable data.

    Token hashes are left out on purpose: they are credentials, not data about
    the shopper, and the export may be mailed or downloaded on a shared phone.
    """
    shopper.refresh_from_db()
    region = shopper.region
    data: dict[str, Any] = {
        "format": 1,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "id": str(shopper.public_id),
            "external_id": shopper.external_id,
            "account": shopper.user.get_username() if shopper.user_id else None,
            "region": region.code if region else None,
            "region_name": region.name if region else None,
            "age_band": shopper.age_band,
            "gender": shopper.gender,
            "language": shopper.language,
            "consent_personalization": shopper.consent_personalization,
            "consent_analytics": shopper.consent_analytics,
            "lifecycle_stage": shopper.lifecycle_stage,
            "orders_count": shopper.orders_count,
            "first_order_at": _iso(shopper.first_order_at),
            "first_seen_at": _iso(shopper.first_seen_at),
            "last_seen_at": _iso(shopper.last_seen_at),
            # The code the shopper's own share links carry, and when they first
            # arrived by someone else's (who shared it is that person's data).
            "referral_code": shopper.referral_code,
            "referred_at": _iso(shopper.referred_at),
        },
        "tokens": [
            {"created_at": _iso(created), "last_used_at": _iso(used)}
            for created, used in shopper.tokens.order_by("created_at")
            .values_list("created_at", "last_used_at")
        ],
        "events": [
            {"product_id": product_id, "product": title, "type": type, "context": context,
             "at": _iso(at), "client_event_id": client_event_id}
            for product_id, title, type, context, at, client_event_id in (
                Event.objects.filter(shopper=shopper).order_by("created_at", "pk")
                .values_list("product_id", "product__title", "type", "context",
                             "created_at", "client_event_id")
                .iterator(chunk_size=2000)
            )
        ],
    }
    for name, exporter in sorted(privacy.exporters().items()):
        data[name] = exporter(shopper)
    return data


@transaction.atomic
def shopper_erase(*, shopper: ShopperProfile) -> list[dict]:
    """Erase `shopper`; return what other apps must keep for now, and why.

    Events are kept for aggregate statistics (popularity, co-occurrence) but
    unlinked: shopper and client event id set to NULL, and the time cut to the
    day, so an anonymous purchase cannot be matched back to an order by its
    exact timestamp. Tokens and the profile are deleted; registered erasers of
    other apps run first, while the profile row still exists. One may keep
    what an obligation needs (an order still to be delivered keeps its address)
    and finish later in a purger; its notices are returned for the shopper.
    """
    locked = ShopperProfile.objects.select_for_update().filter(pk=shopper.pk).first()
    if locked is None:
        return []
    kept: list[dict] = []
    for eraser in privacy.erasers():
        kept.extend(eraser(locked) or ())
    _unlink_events([locked.pk])
    ShopperToken.objects.filter(shopper=locked).delete()
    locked.delete()
    return kept


def _unlink_events(shopper_ids: list[int]) -> None:
    Event.objects.filter(shopper_id__in=shopper_ids).update(
        shopper=None, client_event_id=None, created_at=TruncDay("created_at")
    )


def shoppers_purge_abandoned(*, now: datetime | None = None) -> int:
    """Delete anonymous profiles unseen for ABANDONED_AFTER_DAYS; return how many.

    Only profiles with no account, no CSV id and no order: a crawler or a
    one-off visit. Their events are kept unlinked (as on erasure) and other
    apps' rows go with the profile through its foreign keys (a guest cart).
    An app whose token pointed at one gets a 401 and registers again.
    Chunked, one transaction per chunk, so it can run beside live traffic.
    """
    cutoff = (now or timezone.now()) - timedelta(days=get_config()["ABANDONED_AFTER_DAYS"])
    abandoned = ShopperProfile.objects.filter(
        user__isnull=True, external_id="", orders_count=0, last_seen_at__lt=cutoff
    ).order_by("pk")
    purged = 0
    while True:
        with transaction.atomic():
            chunk = list(abandoned.select_for_update().values_list("pk", flat=True)[:1000])
            if not chunk:
                return purged
            _unlink_events(chunk)
            ShopperProfile.objects.filter(pk__in=chunk).delete()
            purged += len(chunk)

