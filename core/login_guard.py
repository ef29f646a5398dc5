"""Bounded password guessing on /admin/login/ that nobody can turn into a lockout of someone else.

Sellers' accounts are worth taking over, so guessing must be slow; but a
throttle keyed on the account alone lets anyone who knows a seller's user
name keep that seller out, and one keyed on REMOTE_ADDR behind a proxy locks
every admin out at once. So, within `window` seconds (SHOP_LOGIN_THROTTLE):

- per (account, client): after `limit` failures that client may not try that
  account again until the window passes (the usual "5 wrong passwords");
- per client, any account: after `client_limit` failures the client is
  refused (one address spraying many accounts);
- per account, from anywhere: past `account_limit` failures the account is
  *slowed*, never locked: it accepts one attempt per `slowdown` seconds from
  clients it has not seen sign in (a distributed guesser gets a handful of
  guesses an hour), while a browser that signed in to it before carries a
  signed device cookie and is exempt, so the owner is not even slowed (the
  device-cookie scheme OWASP recommends). The owner on a new phone waits at
  most `slowdown` seconds for the next free slot.

The client is core.client_ip's (trusted proxies only). Counters live in the
default cache; `throttle_cache` below picks one all gunicorn workers share.

Why not django-axes: it locks (by user name, address or both) rather than
slowing an account, resolves client addresses with its own policy
(django-ipware) where this project needs one policy for throttles, audit log
and login, and writes a database row per failed attempt, which an attacker
turns into write load on the embedded SQLite file. The rules above are a
few cache counters.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core import signing
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils.translation import gettext as _

from .client_ip import client_ip
from .observability import pseudonym
from .throttle_cache import throttle_cache

LOGIN_PATH = "/admin/login/"
DEVICE_COOKIE = "shop_admin_device"
DEVICE_SALT = "core.login_guard.device"
DEVICE_MAX_AGE = 365 * 24 * 3600


def _conf() -> dict[str, int]:
    conf = {"limit": 5, "client_limit": 20, "account_limit": 10, "slowdown": 30, "window": 900}
    conf.update(getattr(settings, "SHOP_LOGIN_THROTTLE", {}))
    return {key: int(value) for key, value in conf.items()}


def _account(username: str) -> str:
    return pseudonym(username.strip().lower())


def _keys(username: str, ip: str) -> dict[str, str]:
    client = pseudonym(ip)
    keys = {"client": f"login-fail:ip:{client}"}
    if username.strip():
        account = _account(username)
        keys["pair"] = f"login-fail:pair:{account}:{client}"
        keys["account"] = f"login-fail:acct:{account}"
    return keys


def _known_device(request, username: str) -> bool:
    try:
        value = request.get_signed_cookie(DEVICE_COOKIE, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        return False
    return bool(username.strip()) and value == _account(username)


def refusal(request, username: str) -> int | None:
    """Return the seconds to wait before this sign-in attempt may run, or None to let it."""
    conf = _conf()
    ip = client_ip(request)
    keys = _keys(username, ip)
    counts = throttle_cache().get_many(list(keys.values()))
    if counts.get(keys["client"], 0) >= conf["client_limit"]:
        return conf["window"]
    if "pair" not in keys:
        return None
    if counts.get(keys["pair"], 0) >= conf["limit"]:
        return conf["window"]
    if counts.get(keys["account"], 0) >= conf["account_limit"] and not _known_device(
            request, username):
        # add() is atomic: of all clients racing for this account's slot, one wins.
        slot = f"login-slot:{_account(username)}"
        if not throttle_cache().add(slot, 1, conf["slowdown"]):
            return conf["slowdown"]
    return None


def record_failure(username: str, ip: str) -> None:
    window = _conf()["window"]
    cache = throttle_cache()
    for key in _keys(username, ip).values():
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, window)


def record_success(username: str, ip: str) -> None:
    """Forget this client's failures on the account (the account's own count stays)."""
    keys = _keys(username, ip)
    if "pair" in keys:
        throttle_cache().delete(keys["pair"])


class AdminLoginGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method != "POST" or request.path_info != LOGIN_PATH:
            return self.get_response(request)
        username = request.POST.get("username", "")
        wait = refusal(request, username)
        if wait is not None:
            minutes = max(1, round(wait / 60))
            message = (
                _("Too many failed sign-in attempts. Try again in %(seconds)d seconds.")
                % {"seconds": wait} if wait < 120 else
                _("Too many failed sign-in attempts. Try again in %(minutes)d minutes.")
                % {"minutes": minutes}
            )
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
            response["Retry-After"] = str(wait)
            response["Cache-Control"] = "no-store"
            return response
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if response.status_code == 302 and user is not None and user.is_authenticated:
            record_success(user.get_username(), client_ip(request))
            response.set_signed_cookie(
                DEVICE_COOKIE, _account(user.get_username()), salt=DEVICE_SALT,
                max_age=DEVICE_MAX_AGE, path="/admin/", secure=request.is_secure(),
                httponly=True, samesite="Lax",
            )
        return response


@receiver(user_login_failed)
def _count_failure(sender, credentials, request=None, **kwargs):
    if request is not None:
        record_failure(str(credentials.get("username", "")), client_ip(request))
