"""The shopper's inbox pages: plain links and forms, so they work with JavaScript off.

Every page here shows one shopper's own data (`never_cache`).
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.http import see_other
from core.pagination import InvalidCursor

from . import selectors, services, stoplinks
from .conf import vapid_settings
from .forms import KindStopForm, PreferenceForm
from .models import ORDER_KINDS, Kind, Notification


@never_cache
@require_http_methods(["GET", "HEAD"])
def inbox(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.inbox_page_get(shopper=request.shopper,
                                        cursor=request.GET.get("cursor"))
    except InvalidCursor:
        return HttpResponseBadRequest("This page link is not valid.")
    stopped = request.GET.get("stopped")
    return render(request, "notifications/notification_list.html", {
        "page": page,
        "order_kinds": ORDER_KINDS,
        "stopped": Kind(stopped).label if stopped in Kind.values else "",
    })


@never_cache
@require_http_methods(["GET", "HEAD"])
def notification_go(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a message's link, recording the tap (inbox or push) as a click."""
    try:
        link = services.notification_click(shopper=request.shopper,
                                           notification_id=notification_id,
                                           via=request.GET.get("via", "inbox"))
    except Notification.DoesNotExist:
        raise Http404 from None
    if not url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        link = "/notifications/"
    return redirect(link)


@never_cache
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    try:
        services.notification_mark_read(shopper=request.shopper, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    return see_other("notifications:inbox")


@never_cache
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(shopper=request.shopper)
    return see_other("notifications:inbox")


@never_cache
@require_POST
def kind_stop(request: HttpRequest) -> HttpResponse:
    """One tap from any message: stop messages of its kind."""
    form = KindStopForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Unknown kind of message.")
    services.kind_stop(shopper=request.shopper, kind=form.cleaned_data["kind"],
                       notification_id=form.cleaned_data["notification"])
    response = see_other("notifications:inbox")
    response["Location"] += f"?stopped={form.cleaned_data['kind']}"
    return response


# The signed token is the credential (stoplinks.py): the phone notification's
# button posts from the service worker, which has no CSRF token, and a link
# opened on another device has no session either.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def kind_stop_signed(request: HttpRequest, token: str) -> HttpResponse:
    """A message's own stop link: GET shows the one button, POST stops the kind."""
    try:
        if request.method == "POST":
            notification = services.kind_stop_signed(token=token)
        else:
            notification = Notification.objects.get(pk=stoplinks.stop_token_read(token))
    except (signing.BadSignature, Notification.DoesNotExist):
        raise Http404 from None
    return render(request, "notifications/stop_confirm.html", {
        "kind": Kind(notification.kind).label, "done": request.method == "POST",
        "is_order_update": notification.is_order_update,
    })


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    current = services.preference_get(shopper=request.shopper)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            wanted = set(form.cleaned_data["kinds"])
            services.preference_update(
                shopper=request.shopper, webpush=form.cleaned_data["webpush"],
                sms=form.cleaned_data["sms"],
                muted_kinds=[kind for kind in Kind.values if kind not in wanted])
            return see_other("notifications:preferences")
        status = 400
    else:
        form = PreferenceForm(initial={
            "webpush": current.webpush, "sms": current.sms,
            "kinds": [kind for kind in Kind.values if kind not in current.muted_kinds],
        })
        status = 200
    return render(request, "notifications/preference_form.html", {
        "form": form, "push_key": vapid_settings()["public_key"],
    }, status=status)
