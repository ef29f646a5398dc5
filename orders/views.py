"""Cart, checkout and order pages: plain HTML forms, so they work with JavaScript off.

Every page here shows one shopper's own data, so no shared proxy may keep one.
The checkout page and the answers to POSTs are `never_cache` (no-store:
nothing keeps them), except a refused checkout (see `_checkout_page`).
The cart, the order list and an order page answer `private, no-cache` instead:
the browser revalidates them on every view (ETag, 304), and the service worker
may keep a copy for that one shopper, so at the door, offline, the shopper
can still show the order number and the cash to pay (templates/storefront/sw.js).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_POST

from core.http import see_other
from personalization.market import request_market

from . import selectors, services
from .forms import CartAddForm, CartLineUpdateForm, CheckoutForm, new_idempotency_key
from .models import CartLine, Order, orders_setting
from .referrals import referral_summary_get

# Revalidated on every view, kept only by this shopper's browser (module docstring).
private_revalidate = cache_control(private=True, no_cache=True, max_age=0)


def _cart(request: HttpRequest):
    """Return the shopper's cart, each line checked against where they shop."""
    return selectors.cart_get(shopper=request.shopper, market=request_market(request).market)


def _cart_page(request: HttpRequest, *, errors: list[str] | None = None,
               status: int = 200) -> HttpResponse:
    cart = _cart(request)
    return render(request, "orders/cart_detail.html", {
        "cart": cart, "errors": errors or [],
        "max_quantity": orders_setting("ORDERS_MAX_LINE_QUANTITY"),
    }, status=status)


def _form_errors(form) -> list[str]:
    return [message for messages in form.errors.values() for message in messages]


def _validation_messages(exc: ValidationError) -> list[str]:
    return [m for messages in exc.message_dict.values() for m in messages] if hasattr(
        exc, "error_dict") else exc.messages


@private_revalidate
@require_http_methods(["GET", "HEAD"])
def cart_detail(request: HttpRequest) -> HttpResponse:
    return _cart_page(request)


@never_cache
@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = CartAddForm(request.POST)
    if not form.is_valid():
        return _cart_page(request, errors=_form_errors(form), status=400)
    try:
        services.cart_line_add(shopper=request.shopper, product_id=form.cleaned_data["product"],
                               quantity=form.cleaned_data["quantity"], context="product")
    except ValidationError as exc:
        return _cart_page(request, errors=_validation_messages(exc), status=400)
    return see_other("orders:cart")


@never_cache
@require_POST
def cart_line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    form = CartLineUpdateForm(request.POST)
    if not form.is_valid():
        return _cart_page(request, errors=_form_errors(form), status=400)
    try:
        services.cart_line_update(shopper=request.shopper, line_id=line_id,
                                  quantity=form.cleaned_data["quantity"])
    except CartLine.DoesNotExist:
        raise Http404 from None
    except ValidationError as exc:
        return _cart_page(request, errors=_validation_messages(exc), status=400)
    return see_other("orders:cart")


@never_cache
@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    try:
        services.cart_line_remove(shopper=request.shopper, line_id=line_id)
    except CartLine.DoesNotExist:
        # Already gone (a double tap): the cart page shows the truth.
        pass
    return see_other("orders:cart")


def _checkout_initial(request: HttpRequest, cart) -> dict:
    initial = {"idempotency_key": new_idempotency_key(), "cart_signature": cart.signature}
    # A returning shopper's last address, so a repeat order is two taps.
    last = selectors.orders_for_shopper(shopper=request.shopper).filter(
        anonymised_at__isnull=True).only("name", "phone", "address", "postal_code",
                                          "region_id").first()
    if last is not None:
        initial.update(name=last.name, phone=last.phone, address=last.address,
                       postal_code=last.postal_code, region=last.region_id)
    elif request.shopper.region_id:
        initial["region"] = request.shopper.region_id
    elif cart.market is not None:
        # The place the pages deliver to, guessed or chosen ("Delivering to").
        initial["region"] = cart.market.region_id
    return initial


def _checkout_page(request, *, form, cart, notice: str = "", refused=None,
                   status: int = 200) -> HttpResponse:
    error_count = 0
    if form.is_bound:
        for name, errors in form.errors.items():
            if name in form.fields and form[name].is_hidden:
                continue  # a stale page: the notice says so, nothing to fix by hand
            error_count += len(errors)
            if name in form.fields:
                # Screen readers announce the message with the field it belongs to.
                form.fields[name].widget.attrs.update({
                    "aria-invalid": "true", "aria-describedby": f"{form[name].auto_id}-error"})
    response = render(request, "orders/checkout.html", {
        "form": form, "cart": cart, "notice": notice, "refused": refused,
        "form_error_count": error_count,
    }, status=status)
    if request.method == "POST":
        # The answer to a refused POST is what Back returns to after the order
        # is placed. Stored privately (not no-store), Chromium shows it from its
        # cache instead of "Confirm form resubmission"; posting it again would
        # carry the same idempotency key and find the order, never place another.
        patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


def _never_cache_unless_set(view):
    """never_cache, except where the view already chose its Cache-Control."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response
    return wrapped


@_never_cache_unless_set
@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    shopper = request.shopper
    if request.method != "POST":
        cart = _cart(request)
        if cart.is_empty:
            return see_other("orders:cart")
        form = CheckoutForm(initial=_checkout_initial(request, cart), shopper=shopper)
        return _checkout_page(request, form=form, cart=cart)

    form = CheckoutForm(request.POST, shopper=shopper)
    if not form.is_valid():
        cart = _cart(request)
        notice = ""
        if any(name in form.errors for name in ("idempotency_key", "cart_signature")):
            # A page kept too long or mangled by a proxy: nothing to fix by hand.
            notice = _("This page was out of date. Check your details and place the "
                       "order again.")
        # The page re-renders the cart as it is now, so the hidden signature
        # must be that cart's; a missing or bad key is replaced by a fresh one.
        data = request.POST.copy()
        data["cart_signature"] = cart.signature
        if "idempotency_key" in form.errors:
            data["idempotency_key"] = new_idempotency_key()
        form = CheckoutForm(data, shopper=shopper)
        form.is_valid()
        return _checkout_page(request, form=form, cart=cart, notice=notice, status=400)
    try:
        placement = services.order_place(
            shopper=shopper, idempotency_key=form.cleaned_data["idempotency_key"],
            details=form.details, cart_signature_seen=form.cleaned_data["cart_signature"],
        )
    except services.CheckoutRefused as refused:
        cart = _cart(request)
        if cart.is_empty and refused.code == "cart_empty":
            return see_other("orders:cart")
        data = request.POST.copy()
        # Show the cart as it is now and ask again: the new signature is what
        # the shopper is looking at; a used key is replaced by a fresh one.
        data["cart_signature"] = cart.signature
        if refused.code == "idempotency_conflict":
            data["idempotency_key"] = new_idempotency_key()
        form = CheckoutForm(data, shopper=shopper)
        form.is_valid()
        return _checkout_page(request, form=form, cart=cart, notice=refused.message,
                              refused=refused, status=409)
    except ValidationError as exc:
        cart = _cart(request)
        return _checkout_page(request, form=form, cart=cart,
                              notice=" ".join(_validation_messages(exc)), status=400)
    # Post/Redirect/Get: the order page's own address (no "?placed=1"), so
    # Back, reload and the service worker's offline copy all name one page,
    # and its banner follows the order's state rather than the URL.
    return see_other(placement.order.get_absolute_url())


@private_revalidate
@require_http_methods(["GET", "HEAD"])
def order_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        order = selectors.order_get_for_shopper(shopper=request.shopper, public_id=public_id)
    except Order.DoesNotExist:
        # Someone else's order and a missing one look the same.
        raise Http404(_("No such order.")) from None
    return render(request, "orders/order_detail.html",
                  {"order": order, "status": order.status_summary()})


# Enough for anyone's recent history; older orders stay reachable by number.
ORDER_LIST_LIMIT = 30


@private_revalidate
@require_http_methods(["GET", "HEAD"])
def order_list(request: HttpRequest) -> HttpResponse:
    orders = list(selectors.orders_for_shopper(shopper=request.shopper)[:ORDER_LIST_LIMIT])
    referral = referral_summary_get(shopper=request.shopper)
    invite_url = request.build_absolute_uri("/") + "?" + urlencode({"ref": referral.code})
    invite_text = _("Shop with me, pay cash on delivery: %(url)s") % {"url": invite_url}
    return render(request, "orders/order_list.html", {
        "orders": orders, "referral": referral,
        "invite_whatsapp_url": "https://wa.me/?" + urlencode({"text": invite_text}),
    })
