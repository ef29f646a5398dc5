"""Structured request logs and the audit trail of authentication.

One JSON line per request: request id, method, route, status, duration. No
query strings, cookies, tokens, user names or addresses ever reach the log:
search terms and cursors are personal, and logs travel further than databases.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

# The one client-IP policy (trusted proxies only), shared with the throttles.
from .client_ip import client_ip

request_logger = logging.getLogger("shop.request")
audit_logger = logging.getLogger("shop.audit")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if fields:
            payload.update(fields)
        else:
            payload["message"] = record.getMessage()
        if record.exc_info and settings.DEBUG:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_info:
            payload["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def pseudonym(value: str) -> str:
    """Return a short keyed hash: lets an operator correlate lines without naming anyone."""
    digest = hashlib.blake2b(value.encode(), key=settings.SECRET_KEY.encode()[:64], digest_size=6)
    return digest.hexdigest()


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response["X-Request-ID"] = request.id
        match = getattr(request, "resolver_match", None)
        fields = {
            "event": "request",
            "request_id": request.id,
            "method": request.method,
            "route": match.route if match else None,
            "path": request.path if not match else None,
            "status": response.status_code,
            "duration_ms": duration_ms,
        }
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            fields["actor"] = "staff" if user.is_superuser else "seller"
        if response.status_code in (401, 403):
            audit_logger.warning("authorization failure", extra={"fields": {
                "event": "authorization_failure", "request_id": request.id,
                "route": fields["route"], "status": response.status_code,
                "user": pseudonym(str(user.pk)) if getattr(user, "is_authenticated", False)
                else None,
                "ip": pseudonym(client_ip(request)),
            }})
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        request_logger.log(level, "request", extra={"fields": fields})
        return response


@receiver(user_logged_in)
def _log_login(sender, request, user, **kwargs):
    audit_logger.info("login", extra={"fields": {
        "event": "login_succeeded", "user": pseudonym(str(user.pk)),
        "ip": pseudonym(client_ip(request)) if request else None,
        "request_id": getattr(request, "id", None),
    }})


@receiver(user_login_failed)
def _log_login_failed(sender, credentials, request=None, **kwargs):
    audit_logger.warning("login failed", extra={"fields": {
        "event": "login_failed",
        "account": pseudonym(str(credentials.get("username", "")).lower()),
        "ip": pseudonym(client_ip(request)) if request else None,
        "request_id": getattr(request, "id", None),
    }})
