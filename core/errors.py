"""Error pages for 400, 403, 404 and 500 that tell the shopper what to do and leak nothing.

Django's own handlers render the templates without the request, so the
pages could carry no CSP nonce and would fall back to an unstyled page. These
render `templates/<status>.html` with only the nonce and the active language
(no context processors: the 500 page must come up when the database is the
thing that failed). Under /api/ the answer is the API's JSON error shape instead.
Exception text never reaches the body: it can hold SQL, paths or personal data.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from core.api.errors import error_body

API_PREFIX = "/api/"


def _nonce(request: HttpRequest) -> str:
    try:
        return str(getattr(request, "csp_nonce", ""))
    except Exception:  # noqa: BLE001 - no nonce only means an unstyled error page
        return ""


def _render(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(error_body(code, message), status=status)
    else:
        body = loader.get_template(f"{status}.html").render({"csp_nonce": _nonce(request)})
        response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    # An error is about this request only: never let a cache keep it.
    response["Cache-Control"] = "no-store"
    return response


def render_error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    """Return the error page (or the API's error shape) for `status`; needs `<status>.html`."""
    return _render(request, status, code, message)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 400, "bad_request", _("The request could not be understood."))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 403, "permission_denied", _("You do not have permission to do this."))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, 404, "not_found", _("Not found."))


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    return _render(request, 500, "server_error",
                   _("Something went wrong on our side. Please try again in a minute."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF token (often an old tab): the translated 403 page.

    Django's own page is English only and names the failing check; the reason
    goes nowhere near the shopper.
    """
    return _render(request, 403, "permission_denied", _("You do not have permission to do this."))

