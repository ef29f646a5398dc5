"""`?lang=` on the API: a client picks the answer's language without headers.

Accept-Language already works (Django's LocaleMiddleware); a PWA link, a
cached URL or a client that cannot set headers passes `?lang=hi` instead,
which wins over the header. An unknown language is a 400 naming the
parameter, never silently the default. The answer's `Content-Language` says
which language it is in, and `?lang=` is part of the URL, so caches keep the
languages apart (LocaleMiddleware adds `Vary: Accept-Language` for the header).
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _

from .errors import error_body

LANG_PARAM = "lang"
API_PREFIX = "/api/"


def language_param_parse(value: str) -> str | None:
    """Return the shop language `value` names ("hi", "HI", "hi-IN" -> "hi"), else None."""
    base = value.strip().split("-")[0].lower()
    return base if base in dict(settings.LANGUAGES) else None


class ApiLanguageMiddleware:
    """Activate the language of `?lang=` for API requests. Goes after LocaleMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX) or LANG_PARAM not in request.GET:
            return self.get_response(request)
        language = language_param_parse(request.GET[LANG_PARAM])
        if language is None:
            choices = ", ".join(code for code, _name in settings.LANGUAGES)
            message = _("Choose one of: %(choices)s.") % {"choices": choices}
            response = JsonResponse(
                error_body("invalid", message, {LANG_PARAM: [message]}), status=400)
            response["Cache-Control"] = "no-store"
            return response
        translation.activate(language)
        request.LANGUAGE_CODE = language
        return self.get_response(request)
