"""System checks: Web Push and the SMS provider misconfigured fail at start, not at first send."""

from __future__ import annotations

import base64
import re

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .channels import sms_provider
from .conf import get_config, vapid_settings

# RFC 8292 section 2.1: a mailto: or https: contact for the push services.
_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^\s/]+(/\S*)?)$")


def _decoded_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except ValueError:
        return -1


@register()
def vapid_check(app_configs=None, **kwargs) -> list[Error]:
    vapid = vapid_settings()
    if not vapid["private_key"]:
        return []
    errors = []
    if _decoded_length(vapid["private_key"]) != 32:
        errors.append(Error("SHOP_VAPID_PRIVATE_KEY is not a base64url P-256 private key "
                            "(32 bytes); make one with `manage.py vapid_keys`.",
                            id="notifications.E001"))
    if _decoded_length(vapid["public_key"]) != 65:
        errors.append(Error("SHOP_VAPID_PUBLIC_KEY must be the pair's base64url public key "
                            "(65 bytes); the service worker subscribes with it.",
                            id="notifications.E002"))
    if not _SUBJECT.match(vapid["subject"]):
        errors.append(Error("SHOP_VAPID_SUBJECT must be a mailto: or https: contact "
                            "(RFC 8292), e.g. mailto:ops@example.com.", id="notifications.E003"))
    return errors


@register()
def sms_provider_check(app_configs=None, **kwargs) -> list[Error]:
    if not get_config()["SMS_PROVIDER"]:
        return []
    try:
        sms_provider()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="notifications.E004")]
    return []
