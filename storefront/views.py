"""Storefront pages: feed, product, category, search, onboarding, and the small POST actions.

Each view validates its input with a form (a bad query string is a 400 page
with the reason, never a 500), calls one selector, at most one service, and
renders. Every page works without JavaScript; app.js only enhances.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from catalog.search import products_search
from core.pagination import InvalidCursor
from personalization.models import AgeBand, Gender
from personalization.resolve import request_shopper
from personalization.selectors import (
    feed_page_get,
    popular_products_get,
    similar_products_get,
)
from personalization.services import event_record, feed_impressions_record, shopper_profile_update

from . import selectors, services
from .cards import CardImage, CardRow, card_rows_get, cards_render
from .forms import (
    DataSaverForm,
    FeedQueryForm,
    HideForm,
    LanguageForm,
    SearchQueryForm,
    WelcomeForm,
    safe_next,
)
from .shell import feed_page_render

FEED_PAGE_SIZE = 20
# Data saver: fewer cards per request, so a shopper who stops scrolling early
# has paid for fewer pictures.
SAVE_DATA_PAGE_SIZE = 10
SIMILAR_LIMIT = 8
EMPTY_SUGGESTIONS = 8
# Widest variant offered: a feed thumbnail is at most 10rem (160 CSS px), so
# 480w covers a 3x screen; product photos are at most 40rem wide.
THUMB_MAX_WIDTH, THUMB_MAX_WIDTH_SAVE_DATA = 480, 160
PHOTO_MAX_WIDTH, PHOTO_MAX_WIDTH_SAVE_DATA = 960, 320
THUMB_SIZES = "(max-width: 25rem) 40vw, 10rem"
PHOTO_SIZES = "(max-width: 40rem) 100vw, 40rem"
WELCOMED_COOKIE = "welcomed"
SAVE_DATA_COOKIE = "save_data"
ONE_YEAR = 365 * 24 * 3600


def _save_data(request: HttpRequest) -> bool:
    return bool(getattr(request, "save_data", False))


def _thumb_cap(request: HttpRequest) -> int:
    return THUMB_MAX_WIDTH_SAVE_DATA if _save_data(request) else THUMB_MAX_WIDTH


def _cards(request: HttpRequest, rows: list[CardRow],
           reasons: dict[int, tuple[str, str]] | None = None, *, first_eager: bool,
           event_context: str, return_to: str) -> list[SafeString]:
    return cards_render(
        request=request, rows=rows, reasons=reasons, first_eager=first_eager,
        thumb_cap=_thumb_cap(request), thumb_sizes=THUMB_SIZES,
        event_context=event_context, return_to=return_to,
    )


def _bad_request(request: HttpRequest, form) -> HttpResponse:
    return render(request, "storefront/bad_request.html", {"form": form}, status=400)


def _page_url(path: str, **params) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    form = FeedQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    cursor = form.cleaned_data["cursor"] or None
    fragment = form.cleaned_data["fragment"]
    shopper = request_shopper(request)
    page_size = SAVE_DATA_PAGE_SIZE if _save_data(request) else FEED_PAGE_SIZE
    # A forged or expired cursor restarts the feed at the top (the selector's
    # contract): a shared or bookmarked link never ends on an error page.
    page = feed_page_get(shopper=shopper, cursor=cursor, page_size=page_size,
                         rows_get=card_rows_get)
    reasons = {item.product_id: (str(item.reason), item.reason_arg) for item in page.items}
    rows = page.rows
    feed_impressions_record(shopper=shopper, product_ids=[row.pk for row in rows])
    return_to = request.get_full_path() if not fragment else "/"
    context = {
        "cards": _cards(request, rows, reasons, first_eager=not cursor, event_context="feed",
                        return_to=return_to),
        "next_url": _page_url("/", cursor=page.next_cursor) if page.next_cursor else "",
        "event_context": "feed",
    }
    if fragment:
        return render(request, "storefront/_card_list.html", context)
    # region_id, not region: no extra query to learn that the shopper has none.
    context["show_welcome"] = (
        not request.COOKIES.get(WELCOMED_COOKIE)
        and shopper is not None
        and shopper.region_id is None
    )
    context["first_page"] = not cursor
    # The page around the cards is a cached shell filled per request (storefront/shell.py).
    return HttpResponse(feed_page_render(
        request, cards=context["cards"], next_url=context["next_url"],
        show_welcome=context["show_welcome"], first_page=context["first_page"],
    ))


@require_safe
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_detail_get(pk=pk)
    similar_ids = similar_products_get(product_id=product.pk, limit=SIMILAR_LIMIT)
    similar = card_rows_get(product_ids=similar_ids)
    code = services.referral_code_get(shopper=request_shopper(request))
    share_url = request.build_absolute_uri(product.get_absolute_url())
    if code:
        share_url += "?" + urlencode({"ref": code})
    photo_cap = PHOTO_MAX_WIDTH_SAVE_DATA if _save_data(request) else PHOTO_MAX_WIDTH
    return render(request, "storefront/product_detail.html", {
        "product": product,
        "images": [CardImage.from_model(image) for image in product.image_list],
        "photo_cap": photo_cap,
        "photo_sizes": PHOTO_SIZES,
        "cards": _cards(request, similar, first_eager=False, event_context="product",
                        return_to=request.get_full_path()),
        "event_context": "product",
        "share_url": share_url,
        "share_text": f"{product.title} {share_url}",
        "whatsapp_url": "https://wa.me/?" + urlencode({"text": f"{product.title} {share_url}"}),
    })


@require_safe
def category(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    form = FeedQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    cursor = form.cleaned_data["cursor"] or None
    shopper = request_shopper(request)
    page_size = SAVE_DATA_PAGE_SIZE if _save_data(request) else FEED_PAGE_SIZE
    try:
        ids, next_cursor = selectors.category_page_get(
            category=category, region=getattr(shopper, "region", None), cursor=cursor,
            page_size=page_size,
        )
    except InvalidCursor:
        form.add_error("cursor", _("This link has expired. Start again from the top."))
        return _bad_request(request, form)
    rows = card_rows_get(product_ids=ids)
    context = {
        "category": category,
        "cards": _cards(request, rows, first_eager=not cursor, event_context="category",
                        return_to=request.get_full_path()),
        "next_url": _page_url(request.path, cursor=next_cursor) if next_cursor else "",
        "event_context": "category",
        "first_page": not cursor,
    }
    if form.cleaned_data["fragment"]:
        return render(request, "storefront/_card_list.html", context)
    return render(request, "storefront/category.html", context)


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    form = SearchQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    query, page = form.cleaned_data["q"], form.cleaned_data["page"]
    page_size = SAVE_DATA_PAGE_SIZE if _save_data(request) else FEED_PAGE_SIZE
    result = products_search(query=query, page=page, page_size=page_size)
    rows = card_rows_get(product_ids=result.product_ids)
    suggestions: list[CardRow] = []
    if not rows and page == 1:
        # Nothing found is a dead end on a slow network: offer what sells nearby.
        shopper = request_shopper(request)
        popular = popular_products_get(
            region=getattr(shopper, "region", None), limit=EMPTY_SUGGESTIONS
        )
        suggestions = card_rows_get(product_ids=popular)
    context = {
        "form": form,
        "query": query,
        "corrected_query": result.corrected_query,
        "cards": _cards(request, rows or suggestions, first_eager=page == 1,
                        event_context="search", return_to=request.get_full_path()),
        "suggesting": bool(suggestions),
        "next_url": _page_url("/search/", q=query, page=page + 1) if result.has_next else "",
        "event_context": "search",
        "first_page": page == 1,
    }
    if form.cleaned_data["fragment"]:
        return render(request, "storefront/_card_list.html", context)
    return render(request, "storefront/search.html", context)


def _welcome_form(request: HttpRequest, data=None) -> WelcomeForm:
    return WelcomeForm(
        data,
        regions=selectors.regions_for_onboarding(),
        age_bands=AgeBand.choices,
        genders=Gender.choices,
        initial=_welcome_initial(request),
    )


def _welcome_initial(request: HttpRequest) -> dict:
    shopper = request_shopper(request)
    if shopper is None:
        return {}
    return {
        "region": shopper.region.code if shopper.region_id else None,
        "age_band": shopper.age_band,
        "gender": shopper.gender,
        "language": shopper.language or translation.get_language(),
    }


def _remember_welcomed(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    response.set_cookie(WELCOMED_COOKIE, "1", max_age=ONE_YEAR, samesite="Lax",
                        httponly=True, secure=request.is_secure())
    return response


def _set_language_cookie(response: HttpResponse, request: HttpRequest, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=ONE_YEAR, samesite="Lax",
        secure=request.is_secure(),
    )


def welcome(request: HttpRequest) -> HttpResponse:
    """The one-screen onboarding. "Skip" is one tap and is remembered, so it never returns."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    if request.method != "POST":
        return render(request, "storefront/welcome.html", {"form": _welcome_form(request)})
    form = _welcome_form(request, request.POST)
    if request.POST.get("skip"):
        return _remember_welcomed(HttpResponseRedirect("/"), request)
    if form.is_valid():
        data = form.cleaned_data
        try:
            shopper_profile_update(
                shopper=request_shopper(request),
                region_code=data["region"].code if data["region"] else None,
                age_band=data["age_band"] or None,
                gender=data["gender"] or None,
                **({"language": data["language"]} if data["language"] else {}),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error("region" if field == "region_code" else
                               (field if field in form.fields else None), messages)
        else:
            response = _remember_welcomed(HttpResponseRedirect("/"), request)
            if data["language"]:
                _set_language_cookie(response, request, data["language"])
            return response
    return render(request, "storefront/welcome.html", {"form": form}, status=400)


@require_POST
def hide(request: HttpRequest) -> HttpResponse:
    """'Not interested': record a hide event, then go back where the shopper was."""
    form = HideForm(request.POST)
    if form.is_valid() and not selectors.product_is_published(pk=form.cleaned_data["product"]):
        form.add_error("product", _("This item is no longer for sale."))
    if not form.is_valid():
        return _bad_request(request, form)
    event_record(shopper=request_shopper(request), product_id=form.cleaned_data["product"],
                 type="hide", context="feed")
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    return HttpResponseRedirect(safe_next(request, form.cleaned_data["next"]))


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch the page language; remembered on the profile and in the language cookie."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    language = form.cleaned_data["language"]
    shopper_profile_update(shopper=request_shopper(request), language=language)
    response = HttpResponseRedirect(safe_next(request, form.cleaned_data["next"]))
    _set_language_cookie(response, request, language)
    return response


@require_POST
def data_saver_set(request: HttpRequest) -> HttpResponse:
    """Turn the in-page data saver on or off (a cookie: a choice per device, not per profile)."""
    form = DataSaverForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, form)
    response = HttpResponseRedirect(safe_next(request, form.cleaned_data["next"]))
    if form.cleaned_data["on"]:
        response.set_cookie(SAVE_DATA_COOKIE, "1", max_age=ONE_YEAR, samesite="Lax",
                            httponly=True, secure=request.is_secure())
    else:
        response.delete_cookie(SAVE_DATA_COOKIE, samesite="Lax")
    return response
