"""The storefront's "Sell on the shop" pages: apply, then sign in to see the application.

Plain forms (they work with JavaScript off), 360 px first, in the shop's
languages. Views validate a form, call one service, render.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core import login_guard
from core.client_ip import client_ip
from core.observability import pseudonym

from . import signup
from .forms import ApplicantLoginForm, SellerSignupForm


@never_cache
@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if signup.signup_throttled(client=pseudonym(client_ip(request))):
            return render(request, "sellers/sell_signup.html", {
                "form": SellerSignupForm(), "refused": _(
                    "Too many sign-ups from this connection. Try again in an hour."),
            }, status=429)
        form = SellerSignupForm(request.POST)
        if form.is_valid():
            # New or not, the same answer (no account enumeration: sellers/signup.py).
            return redirect("sellers:thanks", permanent=False)
        return render(request, "sellers/sell_signup.html", {"form": form}, status=400)
    return render(request, "sellers/sell_signup.html", {"form": SellerSignupForm()})


@never_cache
def thanks_view(request: HttpRequest) -> HttpResponse:
    return render(request, "sellers/sell_thanks.html")


@never_cache
@require_http_methods(["GET", "POST"])
def status_view(request: HttpRequest) -> HttpResponse:
    """Sign in with the number and password of the application, then show its state."""
    application = signup.seller_application_for_user(request.user)
    if application is not None:
        return render(request, "sellers/sell_status.html", {"application": application})
    form = ApplicantLoginForm(request.POST or None)
    status, notice = 200, ""
    if request.method == "POST" and form.is_valid():
        candidates = signup.phone_candidates(form.cleaned_data["phone"])
        username = next(iter(get_user_model()._default_manager.filter(
            username__in=candidates).values_list("username", flat=True)), None)
        username = username or (candidates[0] if candidates else form.cleaned_data["phone"])
        wait = login_guard.refusal(request, username)
        if wait is not None:
            status, notice = 429, _("Too many failed sign-in attempts. Try again later.")
        else:
            user = authenticate(request, username=username,
                                password=form.cleaned_data["password"])
            if user is not None and signup.seller_application_for_user(user) is not None:
                login(request, user)
                login_guard.record_success(username, client_ip(request))
                return redirect("sellers:status")
            # A staff or shopper login without an application gets the same answer.
            status, notice = 400, _("That number and password do not match an application.")
    elif request.method == "POST":
        status = 400
    return render(request, "sellers/sell_status.html",
                  {"login_form": form, "notice": notice}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("sellers:status")
