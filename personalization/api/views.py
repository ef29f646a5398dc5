"""Shopper API: the shopper's own profile and event batches (the feed: storefront/api/).

Every view here acts on `request.auth`, the shopper the credentials name, and
never takes a shopper id from the URL or the body: a token can only ever reach
its own profile and events.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import caching
from core.api.errors import error_responses
from core.api.json_limits import JSONParser
from core.api.parsers import PlainTextJSONParser
from core.api.permissions import HasShopper
from core.api.throttling import IpWriteThrottle, ShopperCreateThrottle, ShopperWriteThrottle
from personalization.api.authentication import (
    ShopperCookieAuthentication,
    ShopperTokenAuthentication,
)
from personalization.conf import get_config
from personalization.services import (
    events_record_batch,
    shopper_create_anonymous,
    shopper_erase,
    shopper_export,
    shopper_profile_update,
    shopper_referral_arrive,
)

from .serializers import (
    EventBatchResultSerializer,
    EventBatchSerializer,
    ShopperCreatedSerializer,
    ShopperCreateSerializer,
    ShopperErasureSerializer,
    ShopperExportSerializer,
    ShopperProfileSerializer,
    ShopperProfileUpdateSerializer,
)

# Product keys are 64-bit; a larger number would overflow the database query.
MAX_PRODUCT_ID = 2**63 - 1


class ShopperApi(caching.CachePolicyMixin, APIView):
    """Base of the shopper views: token or cookie, private, throttled writes."""

    authentication_classes = (ShopperTokenAuthentication, ShopperCookieAuthentication)
    permission_classes = (HasShopper,)
    throttle_classes = (ShopperWriteThrottle, IpWriteThrottle)
    cache_control = caching.PRIVATE_NO_STORE
    vary = caching.PER_CALLER_VARY


class ShopperCreateApi(ShopperApi):
    """Create an anonymous shopper with an API token."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ShopperCreateThrottle, IpWriteThrottle)

    @extend_schema(
        operation_id="shoppers_create",
        summary="Create an anonymous shopper and return its API token (shown once).",
        description="The body is optional: `{\"ref\": <code>}` when the app was opened by a "
                    "shared link (`?ref=`), so the sharer is credited for the shopper's orders.",
        request=ShopperCreateSerializer,
        responses={201: ShopperCreatedSerializer, **error_responses(400, 429)},
    )
    def post(self, request):
        # Checked before anything is written: a bad body creates no shopper.
        # Only a JSON body is read (it may carry `ref`): apps written before
        # `ref` existed POST nothing, or an empty form, and still get their
        # shopper, as they always did.
        is_json = request.content_type.split(";")[0].strip() == "application/json"
        serializer = ShopperCreateSerializer(data=request.data if is_json and request.body else {})
        serializer.is_valid(raise_exception=True)
        shopper, token = shopper_create_anonymous()
        if "ref" in serializer.validated_data:
            shopper_referral_arrive(shopper=shopper, code=serializer.validated_data["ref"])
        body = {"token": token, "shopper": ShopperProfileSerializer(shopper).data}
        return Response(body, status=status.HTTP_201_CREATED)


def _rename_service_errors(exc: DjangoValidationError) -> ValidationError:
    renames = {"region_code": "region"}
    return ValidationError(
        {renames.get(field, field): messages for field, messages in exc.message_dict.items()}
    )


class ShopperMeApi(ShopperApi):
    """Read, change or erase the caller's own profile."""

    @extend_schema(operation_id="shoppers_me_retrieve", summary="The caller's profile.",
                   responses={200: ShopperProfileSerializer, **error_responses(401, 403)})
    def get(self, request):
        return Response(ShopperProfileSerializer(request.auth).data)

    @extend_schema(
        operation_id="shoppers_me_partial_update",
        summary="Change some answers of the profile; null or '' takes one back.",
        request=ShopperProfileUpdateSerializer,
        responses={200: ShopperProfileSerializer, **error_responses(400, 401, 403, 429)},
    )
    def patch(self, request):
        serializer = ShopperProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        ref = changes.pop("ref", None)
        if "region" in changes:
            changes["region_code"] = changes.pop("region")
        try:
            shopper = shopper_profile_update(shopper=request.auth, **changes)
        except DjangoValidationError as exc:
            raise _rename_service_errors(exc) from exc
        if ref is not None:
            # After the answers are saved: a refused PATCH notes no arrival either.
            shopper_referral_arrive(shopper=shopper, code=ref)
        return Response(ShopperProfileSerializer(shopper).data)

    @extend_schema(
        operation_id="shoppers_me_destroy",
        summary="Erase the shopper: profile and tokens deleted, events unlinked; "
                "says what open orders keep until delivered and paid.",
        responses={200: ShopperErasureSerializer, **error_responses(401, 403, 429)},
    )
    def delete(self, request):
        kept = shopper_erase(shopper=request.auth)
        # 200 with a body, not 204: the shopper must be told what is kept and why.
        response = Response({"erased": True, "kept": kept})
        # The cookie would name a profile that no longer exists.
        response.delete_cookie(get_config()["COOKIE_NAME"], samesite="Lax")
        return response


class ShopperExportApi(ShopperApi):
    """Return everything held about the caller."""

    @extend_schema(
        operation_id="shoppers_me_export",
        summary="Everything held about the caller, as JSON (data portability).",
        responses={200: ShopperExportSerializer, **error_responses(401, 403)},
    )
    def get(self, request):
        return Response(shopper_export(shopper=request.auth))


# --- Events --------------------------------------------------------------------------------

# API names -> the service's names. Only these keys reach the service.
_EVENT_FIELDS = {"id": "client_event_id", "product": "product_id", "type": "type",
                 "context": "context", "occurred_at": "occurred_at"}
_SERVICE_TO_API = {service: api for api, service in _EVENT_FIELDS.items()}


def _wrong_types(raw: dict) -> dict[str, list[str]]:
    """Return errors for values of the wrong JSON type (a beacon body is untrusted JSON)."""
    errors = {}
    for key in ("id", "type", "context", "occurred_at"):
        if key in raw and not isinstance(raw[key], str):
            errors[key] = [_("Send text.")]
    if isinstance(raw.get("occurred_at"), str):
        try:
            parse_datetime(raw["occurred_at"])
        except ValueError:  # well formed but impossible, e.g. minute 99
            errors["occurred_at"] = [_("Send an ISO 8601 date-time with a time zone.")]
    product = raw.get("product")
    if "product" in raw and (isinstance(product, bool) or not isinstance(product, int)
                             or not 1 <= product <= MAX_PRODUCT_ID):
        errors["product"] = [_("Send a product id (a positive integer).")]
    return errors


class EventBatchApi(ShopperApi):
    """Record a batch of client events, each validated on its own."""

    # sendBeacon posts text/plain; cookie callers are then checked for the same
    # origin instead of a CSRF token (see personalization/api/authentication.py).
    parser_classes = (JSONParser, PlainTextJSONParser)
    same_origin_check = True

    @extend_schema(
        operation_id="events_create",
        summary="Record a batch of events; each is checked on its own.",
        description=(
            "200 when every event was stored or was a duplicate; 207 when some were "
            "refused (listed in `errors` by index, the others are stored). A batch that "
            "is not a list of 1 to BATCH_MAX_EVENTS events is a 400 and stores nothing. "
            "Also accepts `text/plain` bodies (navigator.sendBeacon) from our own origin."
        ),
        request={"application/json": EventBatchSerializer,
                 "text/plain": EventBatchSerializer},
        responses={
            200: EventBatchResultSerializer,
            207: OpenApiResponse(EventBatchResultSerializer,
                                 description="Some events were refused; see `errors`."),
            **error_responses(400, 401, 403, 415, 429),
        },
    )
    def post(self, request):
        events = self._batch(request.data)
        forwarded: list[int] = []  # batch index of each event sent to the service
        payload: list = []
        errors: dict[int, dict[str, list[str]]] = {}
        for index, raw in enumerate(events):
            if isinstance(raw, dict):
                unknown = sorted(str(key)[:64] for key in raw if key not in _EVENT_FIELDS)
                if unknown:
                    errors[index] = {name: [_("Unknown field.")] for name in unknown}
                    continue
                if "id" not in raw:
                    # Without an id a retried beacon would be counted twice.
                    errors[index] = {"id": [_("This field is required.")]}
                    continue
                wrong = _wrong_types(raw)
                if wrong:
                    errors[index] = wrong
                    continue
                raw = {_EVENT_FIELDS[key]: value for key, value in raw.items()}
            forwarded.append(index)
            payload.append(raw)
        result = events_record_batch(shopper=request.auth, events=payload)
        for error in result.errors:
            errors[forwarded[error.index]] = {
                _SERVICE_TO_API.get(field, field): messages
                for field, messages in error.errors.items()
            }
        body = {
            "accepted": result.accepted,
            "duplicates": result.duplicates,
            "errors": [
                {"index": index, "id": self._client_id(events[index]), "fields": fields}
                for index, fields in sorted(errors.items())
            ],
        }
        return Response(body, status=207 if errors else status.HTTP_200_OK)

    @staticmethod
    def _batch(data) -> list:
        limit = get_config()["BATCH_MAX_EVENTS"]
        if not isinstance(data, dict) or set(data) != {"events"}:
            raise ValidationError({"events": [_('Send {"events": [...]} and nothing else.')]})
        events = data["events"]
        if not isinstance(events, list) or not 1 <= len(events) <= limit:
            raise ValidationError({"events": [
                _("Send a list of 1 to %(max)d events.") % {"max": limit}
            ]})
        return events

    @staticmethod
    def _client_id(raw) -> str | None:
        value = raw.get("id") if isinstance(raw, dict) else None
        return value if isinstance(value, str) else None
