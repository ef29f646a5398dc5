"""Bounded failed logins to /admin/, per account and per client IP.

Sellers' accounts are worth taking over, so guessing passwords must be slow:
after `limit` failures within `window` seconds for an account (whatever IP it
comes from) or from an IP (whatever account it tries), further attempts are
answered 429 until the window passes. The IP is REMOTE_ADDR, never
X-Forwarded-For (a forged header would otherwise give every guess a fresh IP).
Counters live in the default cache: Redis when configured, so every app
server shares them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .observability import client_ip, pseudonym


def _conf() -> tuple[int, int]:
    conf = getattr(settings, "SHOP_LOGIN_THROTTLE", {})
    return int(conf.get("limit", 5)), int(conf.get("window", 900))


def _keys(username: str, ip: str) -> list[str]:
    keys = [f"login-fail:ip:{pseudonym(ip)}"]
    if username:
        keys.append(f"login-fail:acct:{pseudonym(username.strip().lower())}")
    return keys


def is_blocked(username: str, ip: str) -> bool:
    limit, _window = _conf()
    counts = cache.get_many(_keys(username, ip))
    return any(count >= limit for count in counts.values())


def record_failure(username: str, ip: str) -> None:
    _limit, window = _conf()
    for key in _keys(username, ip):
        # add() then incr() keeps the count atomic on Redis and within a process on locmem.
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, window)


def clear_account(username: str) -> None:
    cache.delete(f"login-fail:acct:{pseudonym(username.strip().lower())}")


class AdminLoginThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path_info == "/admin/login/":
            username = request.POST.get("username", "")
            if is_blocked(username, client_ip(request)):
                _limit, window = _conf()
                response = HttpResponse(
                    _("Too many failed sign-in attempts. Try again in %(minutes)d minutes.")
                    % {"minutes": max(1, window // 60)},
                    status=429, content_type="text/plain; charset=utf-8",
                )
                response["Retry-After"] = str(window)
                return response
        return self.get_response(request)


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is not None:
        record_failure(str(credentials.get("username", "")), client_ip(request))


@receiver(user_logged_in)
def _reset_on_success(sender, request, user, **kwargs):
    clear_account(user.get_username())
