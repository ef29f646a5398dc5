"""Notifications API: the caller's inbox, preferences and Web Push subscriptions.

Every view acts on `request.auth`, the shopper the credentials name (token or
storefront cookie, personalization.api.authentication), never on an id from
the body: one shopper can never read or mark another's messages.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api import caching
from core.api.errors import error_responses
from core.api.pagination import KeysetPagination
from personalization.api.views import ShopperApi

from .. import selectors, services
from ..conf import vapid_settings
from ..models import Notification
from .serializers import (
    MarkedSerializer,
    NotificationSerializer,
    PreferenceSerializer,
    PushKeySerializer,
    PushSubscriptionSerializer,
    PushUnsubscribeSerializer,
)


class NotificationListApi(ShopperApi, generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = KeysetPagination
    filter_backends: list = []

    def get_queryset(self):
        return selectors.inbox_queryset(shopper=self.request.auth)

    @extend_schema(operation_id="notifications_list", tags=["notifications"],
                   responses={200: NotificationSerializer(many=True),
                              **error_responses(400, 401, 403)})
    def get(self, request, *args, **kwargs):
        """Return the caller's inbox, newest first."""
        return super().get(request, *args, **kwargs)


NOTIFICATION_ID = OpenApiParameter("notification_id", OpenApiTypes.INT, OpenApiParameter.PATH,
                                   description="`id` of an item of GET /api/v1/notifications/.")


class NotificationReadApi(ShopperApi):
    @extend_schema(operation_id="notification_read", tags=["notifications"], request=None,
                   parameters=[NOTIFICATION_ID],
                   responses={200: NotificationSerializer,
                              **error_responses(401, 403, 404, 429)})
    def post(self, request, notification_id: str):
        """Mark one of the caller's notifications read."""
        try:
            notification = services.notification_mark_read(
                shopper=request.auth, notification_id=notification_id,
                channel=request.query_params.get("via", "inbox"))
        except Notification.DoesNotExist:
            raise Http404 from None
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllApi(ShopperApi):
    @extend_schema(operation_id="notifications_read_all", tags=["notifications"], request=None,
                   responses={200: MarkedSerializer, **error_responses(401, 403, 429)})
    def post(self, request):
        """Mark every unread notification of the caller read; say how many."""
        return Response({"marked": services.notifications_mark_all_read(shopper=request.auth)})


def _preference_body(preference) -> dict:
    return {"webpush": preference.webpush, "sms": preference.sms,
            "muted_kinds": list(preference.muted_kinds)}


class PreferenceApi(ShopperApi):
    @extend_schema(operation_id="notification_preferences_get", tags=["notifications"],
                   responses={200: PreferenceSerializer, **error_responses(401, 403)})
    def get(self, request):
        """Return what the caller receives on which channel."""
        return Response(_preference_body(services.preference_get(shopper=request.auth)))

    @extend_schema(operation_id="notification_preferences_update", tags=["notifications"],
                   request=PreferenceSerializer,
                   responses={200: PreferenceSerializer, **error_responses(400, 401, 403, 429)})
    def patch(self, request):
        """Change channels or stopped kinds (the fields sent); each opt-out is recorded."""
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A service's ValidationError becomes the 400 with field messages in
        # core.api.errors.api_exception_handler, as for every other API view.
        preference = services.preference_update(shopper=request.auth,
                                                **serializer.validated_data)
        return Response(_preference_body(preference))


class PushSubscriptionApi(ShopperApi):
    @extend_schema(operation_id="push_subscribe", tags=["notifications"],
                   request=PushSubscriptionSerializer,
                   responses={201: None, **error_responses(400, 401, 403, 429)})
    def post(self, request):
        """Store the service worker's push subscription (the shopper tapped "allow")."""
        serializer = PushSubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.push_subscribe(shopper=request.auth, endpoint=data["endpoint"],
                                p256dh=data["keys"]["p256dh"], auth=data["keys"]["auth"])
        return Response(status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="push_unsubscribe", tags=["notifications"],
                   request=PushUnsubscribeSerializer,
                   responses={204: None, **error_responses(400, 401, 403, 404, 429)})
    def delete(self, request):
        """Forget a push subscription of the caller (the service worker unsubscribed)."""
        serializer = PushUnsubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not services.push_unsubscribe(shopper=request.auth,
                                         endpoint=serializer.validated_data["endpoint"]):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushKeyApi(ShopperApi):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    cache_control = caching.PUBLIC
    vary = ()

    @extend_schema(operation_id="push_key", tags=["notifications"],
                   responses={200: PushKeySerializer})
    def get(self, request):
        """Return the VAPID public key the service worker subscribes with."""
        return Response({"public_key": vapid_settings()["public_key"]})
