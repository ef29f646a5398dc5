"""Storefront pages: feed, product, category, search, onboarding, and the small POST actions.

Each view validates its input with a form (a bad query string is a 400 page
with the reason, never a 500), calls one selector, at most one service, and
renders. Every page works without JavaScript; app.js only enhances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from catalog.search import products_search, search_miss_record
from core.pagination import InvalidCursor
from personalization.market import REGION_COOKIE, request_market
from personalization.models import AgeBand, Gender
from personalization.resolve import request_shopper
from personalization.selectors import (
    feed_page_get,
    popular_products_get,
    similar_products_get,
)
from personalization.services import event_record, feed_impressions_record, shopper_profile_update
from reviews.models import RATING_MAX
from reviews.selectors import product_rating_of, review_photos
from reviews.services import ReviewNotAllowed, review_create

from . import selectors, services
from .cards import CardImage, CardRow, card_rows_get, cards_render
from .forms import (
    CategoryQueryForm,
    DataSaverForm,
    FeedQueryForm,
    HideForm,
    LanguageForm,
    RegionForm,
    ReviewForm,
    ReviewsPageForm,
    SearchQueryForm,
    WelcomeForm,
    safe_next,
)
from .shell import feed_page_render

FEED_PAGE_SIZE = 20
# The product page shows the newest few; the rest are a tap away, paged.
REVIEWS_ON_PRODUCT_PAGE = 5
REVIEWS_PAGE_SIZE = 10
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
# The product gallery's box is this share of the screen's height (CSS .sl:
# min(40vh, 24rem)): at 360x640 the title, the photo, the price, the stock and
# the buy button then all fit in the first screen, whatever the photo count.
GALLERY_HEIGHT_VH = 40
# The product page's title shows at most three lines (CSS line-clamp) so a long
# one cannot push the buy button off the first screen; a title that may need
# more (about 35 characters a line at 360 px) is written out in full under
# "About this item".
TITLE_CLAMP_CHARS = 100
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
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    form = FeedQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    cursor = form.cleaned_data["cursor"] or None
    fragment = form.cleaned_data["fragment"]
    shopper = request_shopper(request)
    market = request_market(request, shopper=shopper).market
    page_size = SAVE_DATA_PAGE_SIZE if _save_data(request) else FEED_PAGE_SIZE
    # A forged or expired cursor restarts the feed at the top (the selector's
    # contract): a shared or bookmarked link never ends on an error page.
    page = feed_page_get(shopper=shopper, cursor=cursor, page_size=page_size,
                         rows_get=card_rows_get, market=market)
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
    saved = _saved_summary(shopper) if form.cleaned_data["saved"] and not cursor else ""
    # The page around the cards is a cached shell filled per request (storefront/shell.py).
    return HttpResponse(feed_page_render(
        request, cards=context["cards"], next_url=context["next_url"],
        show_welcome=context["show_welcome"], first_page=context["first_page"], saved=saved,
    ))


def _saved_summary(shopper) -> str:
    """Return the onboarding's confirmation: each answer the profile now holds, by name."""
    if shopper is None:
        return ""
    parts = []
    if shopper.region_id:
        parts.append(shopper.region.name)  # one query, only on this one page view
    if shopper.age_band:
        parts.append(_("age %(band)s") % {"band": shopper.get_age_band_display()})
    if shopper.gender:
        parts.append(_("shopping for: %(who)s") % {"who": shopper.get_gender_display()})
    if shopper.language:
        parts.append(translation.get_language_info(shopper.language)["name_local"])
    if not parts:
        return _("Saved. You left every answer empty, so your feed shows what is popular "
                 "everywhere.")
    return _("Saved: %(answers)s. Your feed now starts from these.") % {
        "answers": " · ".join(parts)}


@require_safe
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    shopper = request_shopper(request)
    product = selectors.product_detail_get(
        pk=pk, shopper=shopper, market=request_market(request, shopper=shopper).market)
    return _product_page(request, product, shopper=shopper,
                         reviewed_now=request.GET.get("reviewed") == "1")


def _product_page(request: HttpRequest, product, *, shopper, review_form=None,
                  reviewed_now: bool = False, status: int = 200) -> HttpResponse:
    market = request_market(request, shopper=shopper).market
    # A listing opened from a shared link may be sold elsewhere: it says so,
    # and "more like this" stays in the shopper's market (one currency a page).
    elsewhere = getattr(product, "sold_in_market", True) is False
    similar_ids = [] if elsewhere else similar_products_get(
        product_id=product.pk, limit=SIMILAR_LIMIT, market=market)
    similar = card_rows_get(product_ids=similar_ids)
    code = services.referral_code_get(shopper=shopper)
    share_url = request.build_absolute_uri(product.get_absolute_url())
    if code:
        share_url += "?" + urlencode({"ref": code})
    photo_cap = PHOTO_MAX_WIDTH_SAVE_DATA if _save_data(request) else PHOTO_MAX_WIDTH
    reviews, more_reviews = selectors.product_reviews_page_get(
        product=product, cursor=None, page_size=REVIEWS_ON_PRODUCT_PAGE)
    eligible = getattr(product, "review_line", None) is not None
    reviewed = getattr(product, "reviewed", False)
    if review_form is None and eligible and not reviewed:
        review_form = ReviewForm()
    gallery = _gallery([CardImage.from_model(image) for image in product.image_list])
    return render(request, "storefront/product_detail.html", {
        "product": product,
        "gallery": gallery,
        "title_clamped": len(product.local_title) > TITLE_CLAMP_CHARS,
        "photo_numbers": range(1, len(gallery) + 1),
        "sold_elsewhere": elsewhere,
        "photo_cap": photo_cap,
        "cards": _cards(request, similar, first_eager=False, event_context="product",
                        return_to=request.get_full_path()),
        "event_context": "product",
        "share_url": share_url,
        "share_text": f"{product.local_title} {share_url}",
        "whatsapp_url": "https://wa.me/?" + urlencode(
            {"text": f"{product.local_title} {share_url}"}),
        "rating": product_rating_of(product),
        "reviews": _shown_reviews(reviews),
        "more_reviews": bool(more_reviews),
        "review_form": review_form,
        "reviewed": reviewed or reviewed_now,
        # Only when it is true: a forged ?reviewed=1 thanks nobody.
        "reviewed_now": reviewed_now and reviewed,
    }, status=status)


@dataclass(frozen=True)
class _GalleryPhoto:
    image: CardImage
    number: int  # 1-based, as the shopper counts them
    next_number: int  # where a tap on the photo goes: the next one, the first after the last
    sizes: str

    @property
    def eager(self) -> bool:
        # Only the photo on screen at first: the others load when shown.
        return self.number == 1


def _photo_sizes(image: CardImage) -> str:
    """Return the `sizes` of a gallery photo: the width it is really drawn at.

    The photo is contained in a box as wide as the page and GALLERY_HEIGHT_VH
    tall, so it fills the width only when the screen is narrower than its
    aspect allows (viewport aspect below GALLERY_HEIGHT_VH% of the photo's);
    otherwise its height binds and it is drawn 40vh * aspect wide. Saying
    "100vw" would fetch a square photo at 360 px where 256 px are shown: on a
    2x phone the 960 w variant instead of the 640 w one.
    """
    if not image.width or not image.height:
        return PHOTO_SIZES
    drawn_vh = math.ceil(GALLERY_HEIGHT_VH * image.width / image.height)
    return (f"(max-aspect-ratio: {GALLERY_HEIGHT_VH * image.width}/{100 * image.height}) 100vw, "
            f"{drawn_vh}vh")


def _gallery(images: list[CardImage]) -> list[_GalleryPhoto]:
    """Return the product's photos in the order the page writes them: 2..N, then 1.

    Why one photo at a time with numbered links and :target, not a stack (it
    pushed the price and the buy button ~1,100 px down) and not a swipe strip
    (a horizontal carousel, which the storefront does not use): it works with
    JavaScript off, costs no request per photo (a ?photo=N link would reload
    the whole page on 2G), and a hidden photo (display:none, loading=lazy) is
    never downloaded until it is asked for. The first photo comes last in the
    markup because CSS can only hide a *following* sibling: `.sl:target ~ .s1`
    hides photo 1 while another photo is the target, without :has(), which
    older phone browsers lack.
    """
    count = len(images)
    photos = [
        _GalleryPhoto(image=image, number=number, next_number=number % count + 1,
                      sizes=_photo_sizes(image))
        for number, image in enumerate(images, 1)
    ]
    return photos[1:] + photos[:1]


@dataclass(frozen=True)
class _ShownReview:
    review: object
    photos: list[CardImage]

    @property
    def stars(self) -> str:
        return "★" * self.review.rating + "☆" * (RATING_MAX - self.review.rating)


def _shown_reviews(reviews) -> list[_ShownReview]:
    alt = _("Photo from a buyer")
    return [_ShownReview(review=review, photos=[
        CardImage(variants=photo.variants, width=photo.width, height=photo.height,
                  placeholder_color=photo.placeholder_color, alt_text=alt,
                  original=photo.original)
        for photo in review_photos(review)]) for review in reviews]


@require_POST
def product_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A verified buyer's review from the product page (multipart, works without JS).

    Post/Redirect/Get on success; the product page with the form's errors
    otherwise (400, or 403 for a shopper without a delivered line).
    """
    shopper = request_shopper(request)
    product = selectors.product_detail_get(
        pk=pk, shopper=shopper, market=request_market(request, shopper=shopper).market)
    form = ReviewForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            review_create(shopper=shopper, product_id=product.pk, rating=data["rating"],
                          text=data["text"], photos=data["photos"])
        except ReviewNotAllowed as exc:
            form.add_error(None, exc.message)
            status = 403
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            return HttpResponseRedirect(
                f"{product.get_absolute_url()}?reviewed=1#reviews", status=303)
    return _product_page(request, product, shopper=shopper, review_form=form, status=status)


@require_safe
def product_reviews(request: HttpRequest, pk: int) -> HttpResponse:
    """Every shown review of a product, a page at a time (cursor), newest first."""
    form = ReviewsPageForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    product = selectors.product_detail_get(pk=pk)
    try:
        reviews, next_cursor = selectors.product_reviews_page_get(
            product=product, cursor=form.cleaned_data["cursor"] or None,
            page_size=REVIEWS_PAGE_SIZE)
    except InvalidCursor:
        form.add_error("cursor", _("This link has expired. Start again from the top."))
        return _bad_request(request, form)
    return render(request, "storefront/product_reviews.html", {
        "product": product,
        "rating": product_rating_of(product),
        "reviews": _shown_reviews(reviews),
        "next_url": _page_url(request.path, cursor=next_cursor) if next_cursor else "",
    })


@require_safe
def category(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    form = CategoryQueryForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, form)
    cursor = form.cleaned_data["cursor"] or None
    sort = form.cleaned_data["sort"] or selectors.CATEGORY_SORT_DEFAULT
    shopper = request_shopper(request)
    page_size = SAVE_DATA_PAGE_SIZE if _save_data(request) else FEED_PAGE_SIZE
    try:
        ids, next_cursor = selectors.category_page_get(
            category=category, market=request_market(request, shopper=shopper).market,
            sort=sort,
            cursor=cursor, page_size=page_size,
        )
    except InvalidCursor:
        form.add_error("cursor", _("This link has expired. Start again from the top."))
        return _bad_request(request, form)
    rows = card_rows_get(product_ids=ids)
    # The default sort's links carry no parameter: one URL per page, one cache entry.
    sort_param = None if sort == selectors.CATEGORY_SORT_DEFAULT else sort
    context = {
        "category": category,
        "sorts": [
            {"label": label, "current": value == sort,
             "url": _page_url(request.path,
                              sort=None if value == selectors.CATEGORY_SORT_DEFAULT else value)}
            for value, label in form.fields["sort"].choices
        ],
        "cards": _cards(request, rows, first_eager=not cursor, event_context="category",
                        return_to=request.get_full_path()),
        "next_url": (_page_url(request.path, sort=sort_param, cursor=next_cursor)
                     if next_cursor else ""),
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
    market = request_market(request).market
    result = products_search(query=query, page=page, page_size=page_size, market=market)
    rows = card_rows_get(product_ids=result.product_ids)
    suggestions: list[CardRow] = []
    if not result.product_ids and page == 1:
        # Counted for staff (the words and the language, not the shopper):
        # what shoppers call things the shop does not find.
        search_miss_record(query=query, language=translation.get_language() or "")
    if not rows and page == 1:
        # Nothing found is a dead end on a slow network: offer what sells nearby.
        popular = popular_products_get(market=market, limit=EMPTY_SUGGESTIONS)
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
            # The feed's first page then names what was saved (a sign that it worked).
            response = _remember_welcomed(HttpResponseRedirect("/?saved=1"), request)
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


def region_choose(request: HttpRequest) -> HttpResponse:
    """Where to deliver: the chooser behind "Delivering to: … · change".

    A plain form (works with JS off). The choice goes on the profile, which
    makes the market known, and into the `region` cookie, which a new profile
    on the same phone starts from (personalization.market).
    """
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    regions = selectors.regions_for_onboarding()
    current = request_market(request)
    if request.method != "POST":
        # Back to the page the shopper came from (same-origin Referer only).
        back = urlsplit(safe_next(request, request.GET.get("next")
                                  or request.headers.get("Referer")))
        back = back.path + (f"?{back.query}" if back.query else "")
        form = RegionForm(regions=regions, initial={"region": current.code, "next": back})
        return render(request, "storefront/region.html", {"form": form})
    form = RegionForm(request.POST, regions=regions)
    if form.is_valid():
        region = form.cleaned_data["region"]
        try:
            shopper_profile_update(shopper=request_shopper(request), region_code=region.code)
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                form.add_error("region", messages)
        else:
            response = HttpResponseRedirect(safe_next(request, form.cleaned_data["next"]),
                                            status=303)
            response.set_cookie(REGION_COOKIE, region.code, max_age=ONE_YEAR, samesite="Lax",
                                httponly=True, secure=request.is_secure())
            return response
    return render(request, "storefront/region.html", {"form": form}, status=400)


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
