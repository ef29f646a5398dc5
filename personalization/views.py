"""The shopper's own data as pages: see what is held, download it, erase it.

The same services as `GET /api/v1/shoppers/me/export/` and `DELETE
/api/v1/shoppers/me/`, for shoppers who never use an app. Erasing says what
is kept for now and why (an order still to be delivered keeps its address),
exactly as the API does.
"""

from __future__ import annotations

import json

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from .conf import get_config
from .services import shopper_erase, shopper_export

CORE_SECTIONS = ("format", "exported_at", "profile", "tokens")


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, erase my profile and history"), required=True,
        error_messages={"required": _("Tick the box to confirm: erasing cannot be undone.")},
    )


def _kept_on_erasure(data) -> list[dict]:
    """Return every `kept_on_erasure` notice in an export, whichever app's section holds it."""
    found, stack = [], [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if isinstance(value.get("kept_on_erasure"), dict):
                found.append(value["kept_on_erasure"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return sorted(found, key=lambda notice: str(notice.get("order", "")))


def _summary(data: dict) -> list[tuple[str, int]]:
    """Return (section, rows) for the export's sections other than the profile itself."""
    rows = [(str(_("Events (views, taps, purchases)")), len(data.get("events", [])))]
    for name, section in sorted(data.items()):
        if name in CORE_SECTIONS or name == "events":
            continue
        if isinstance(section, dict):  # an app's section of several lists (orders, cart)
            rows.extend((key.capitalize(), len(value)) for key, value in sorted(section.items())
                        if isinstance(value, list))
        elif isinstance(section, list):
            rows.append((name.capitalize(), len(section)))
    return rows


@never_cache
@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    data = shopper_export(shopper=request.shopper)
    return render(request, "personalization/privacy.html", {
        "profile": data["profile"], "summary": _summary(data),
        "kept": _kept_on_erasure(data), "form": ErasureForm(),
    })


@never_cache
@require_safe
def privacy_export(request: HttpRequest) -> HttpResponse:
    data = shopper_export(shopper=request.shopper)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=1),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-shop-data.json"'
    return response


@never_cache
@require_POST
def privacy_erase(request: HttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST)
    if not form.is_valid():
        data = shopper_export(shopper=request.shopper)
        return render(request, "personalization/privacy.html", {
            "profile": data["profile"], "summary": _summary(data),
            "kept": _kept_on_erasure(data), "form": form,
        }, status=400)
    kept = shopper_erase(shopper=request.shopper)
    response = render(request, "personalization/privacy_erased.html", {"kept": kept})
    # The cookie named the profile that is gone; the next visit starts afresh.
    response.delete_cookie(get_config()["COOKIE_NAME"], samesite="Lax")
    return response
