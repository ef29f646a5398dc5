"""Shopper API payloads: API field names are the public contract; the services'
own names (region_code, product_id, client_event_id) stay inside."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from personalization.conf import DEFAULTS
from personalization.models import AgeBand, EventContext, Gender, ShopperProfile
from personalization.services import CLIENT_EVENT_TYPES


class ShopperProfileSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    region = serializers.SerializerMethodField()
    # '' means "not given": plain strings, since an enum would not admit ''.
    age_band = serializers.CharField(read_only=True,
                                     help_text=f"One of {', '.join(AgeBand.values)}, or ''.")
    gender = serializers.CharField(read_only=True,
                                   help_text=f"One of {', '.join(Gender.values)}, or ''.")
    language = serializers.CharField(read_only=True, help_text="A language code, or ''.")

    referral_code = serializers.CharField(
        read_only=True, help_text="Put on shared links as `?ref=<code>`: orders of friends "
                                  "who arrive by them are credited to this shopper.")
    referred_at = serializers.DateTimeField(
        read_only=True, allow_null=True,
        help_text="When the shopper first arrived by someone's shared link (null: never).")

    class Meta:
        model = ShopperProfile
        fields = ["id", "region", "age_band", "gender", "language", "consent_personalization",
                  "consent_analytics", "lifecycle_stage", "referral_code", "referred_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="A region code."))
    def get_region(self, shopper) -> str | None:
        return shopper.region.code if shopper.region_id else None


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: a consent must never be read from "0" or "yes"."""

    default_error_messages = {"invalid": _("Send true or false.")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    """JSON strings only: DRF would otherwise read 0 as "0"."""

    default_error_messages = {"invalid": _("Send text.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _blank_choices(choices) -> list:
    return [("", _("Not given")), *choices]


REF_HELP = ("The `ref` of the shared link the app was opened by. The first one a shopper "
            "arrives by is kept; a later one, the shopper's own code or an unknown code "
            "is ignored without an error (`referred_at` tells whether it was taken).")


def _unknown_fields(serializer) -> None:
    unknown = sorted(set(serializer.initial_data) - set(serializer.fields)) if isinstance(
        serializer.initial_data, dict) else []
    if unknown:
        raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})


class ShopperCreateSerializer(serializers.Serializer):
    """The optional body of shopper creation: an app opened by a shared link."""

    ref = StrictCharField(required=False, allow_blank=True, max_length=64,
                                help_text=REF_HELP)

    def validate(self, attrs):
        _unknown_fields(self)
        return attrs


class ShopperProfileUpdateSerializer(serializers.Serializer):
    """Every field optional; null or "" takes an answer back."""

    region = serializers.CharField(max_length=32, required=False, allow_null=True,
                                   allow_blank=True, help_text="A region code, e.g. IN-MH-PUN.")
    age_band = serializers.ChoiceField(choices=_blank_choices(AgeBand.choices), required=False,
                                       allow_null=True)
    gender = serializers.ChoiceField(choices=_blank_choices(Gender.choices), required=False,
                                     allow_null=True)
    language = serializers.ChoiceField(choices=_blank_choices(settings.LANGUAGES),
                                       required=False, allow_null=True)
    consent_personalization = StrictBooleanField(required=False)
    consent_analytics = StrictBooleanField(required=False)
    ref = StrictCharField(required=False, allow_blank=True, max_length=64,
                                help_text=REF_HELP)

    def validate(self, attrs):
        _unknown_fields(self)
        return attrs


class ShopperCreatedSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="Send as `Authorization: Shopper <token>`. Shown once: only its hash is kept."
    )
    shopper = ShopperProfileSerializer()


class ExportProfileSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    region = serializers.CharField(allow_null=True)
    region_name = serializers.CharField(allow_null=True)
    age_band = serializers.CharField()
    gender = serializers.CharField()
    language = serializers.CharField()
    consent_personalization = serializers.BooleanField()
    consent_analytics = serializers.BooleanField()
    lifecycle_stage = serializers.CharField()
    orders_count = serializers.IntegerField()
    first_order_at = serializers.DateTimeField(allow_null=True)
    first_seen_at = serializers.DateTimeField(allow_null=True)
    last_seen_at = serializers.DateTimeField(allow_null=True)
    referral_code = serializers.CharField()
    referred_at = serializers.DateTimeField(allow_null=True)


class ExportTokenSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)


class ExportEventSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product = serializers.CharField(help_text="The product title.")
    type = serializers.CharField()
    context = serializers.CharField()
    at = serializers.DateTimeField()
    client_event_id = serializers.CharField(allow_null=True)


class ShopperExportSerializer(serializers.Serializer):
    """Documents the export; other apps add sections (e.g. orders) as extra keys."""

    format = serializers.IntegerField()
    exported_at = serializers.DateTimeField()
    profile = ExportProfileSerializer()
    tokens = ExportTokenSerializer(many=True)
    events = ExportEventSerializer(many=True)


class ErasureKeptSerializer(serializers.Serializer):
    """One thing erasure keeps for now: an order still to be delivered keeps its address."""

    order = serializers.CharField(required=False, help_text="The order number, when an order.")
    kept = serializers.ListField(child=serializers.CharField(), help_text="Fields kept for now.")
    reason = serializers.CharField(help_text="Why they are kept, for people.")
    until = serializers.CharField(help_text="When they are erased, for people.")


class ShopperErasureSerializer(serializers.Serializer):
    erased = serializers.BooleanField(help_text="Always true: profile and tokens are gone.")
    kept = ErasureKeptSerializer(
        many=True, help_text="What is kept for now and why (empty: nothing is kept)."
    )


# --- Events -----------------------------------------------------------------------------


class EventInSerializer(serializers.Serializer):
    """One event as a client sends it (documentation: events are checked one by one)."""

    id = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$", max_length=64,
        help_text="The client's id for this event (a UUID, ULID or counter). A retried "
                  "batch is stored once: events already seen are counted as duplicates.",
    )
    type = serializers.ChoiceField(
        choices=sorted(CLIENT_EVENT_TYPES),
        help_text="Purchases are recorded by checkout, never by clients.",
    )
    product = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    context = serializers.ChoiceField(
        choices=[c for c in EventContext.values if c != EventContext.IMPORT],
        required=False, default=EventContext.OTHER,
    )
    occurred_at = serializers.DateTimeField(
        required=False,
        help_text="When it happened, with a time zone (events queued offline); default now.",
    )


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(
        child=EventInSerializer(), min_length=1, max_length=DEFAULTS["BATCH_MAX_EVENTS"],
        help_text="1 to PERSONALIZATION['BATCH_MAX_EVENTS'] events (100 by default).",
    )


class EventErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in `events`, from 0.")
    id = serializers.CharField(allow_null=True, help_text="Its client id, when it had one.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class EventBatchResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(help_text="Events already stored (by client id).")
    errors = EventErrorSerializer(many=True, help_text="Events refused, with why.")
