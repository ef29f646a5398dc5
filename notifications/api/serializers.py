"""Shapes of the notifications API (inbox, preferences, Web Push subscriptions)."""

from __future__ import annotations

from rest_framework import serializers

from personalization.api.serializers import StrictBooleanField

from ..models import Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "link", "sent_at", "read_at")
        read_only_fields = fields


class PreferenceSerializer(serializers.Serializer):
    webpush = StrictBooleanField(required=False)
    sms = StrictBooleanField(required=False)
    muted_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Kind.choices), required=False, max_length=20,
        help_text="Kinds the shopper stopped; order kinds here stop only push and SMS.")


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=100)
    auth = serializers.CharField(max_length=40)


class PushSubscriptionSerializer(serializers.Serializer):
    """PushSubscription.toJSON() of the service worker (expirationTime is ignored)."""

    endpoint = serializers.CharField(max_length=500)
    keys = PushKeysSerializer()


class PushUnsubscribeSerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=500)


class PushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The VAPID public key (base64url): the applicationServerKey to subscribe "
                  "with; empty when Web Push is not configured.")
