"""Cart, checkout and order pages: plain HTML forms, so they work with JavaScript off.

Every page here shows one shopper's own data, so none may be cached by the
browser's back/forward cache or a shared proxy (`never_cache`).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .forms import CartAddForm, CartLineUpdateForm, CheckoutForm, new_idempotency_key
from .models import CartLine, Order, orders_setting


def _see_other(to: str, *args, **kwargs) -> HttpResponse:
    """Redirect a POST with 303, so the browser follows with a GET and reload never re-posts."""
    response = redirect(to, *args, **kwargs)
    response.status_code = 303
    return response


def _cart_page(request: HttpRequest, *, errors: list[str] | None = None,
               status: int = 200) -> HttpResponse:
    cart = selectors.cart_get(shopper=request.shopper)
    return render(request, "orders/cart_detail.html", {
        "cart": cart, "errors": errors or [],
        "max_quantity": orders_setting("ORDERS_MAX_LINE_QUANTITY"),
    }, status=status)


def _form_errors(form) -> list[str]:
    return [message for messages in form.errors.values() for message in messages]


def _validation_messages(exc: ValidationError) -> list[str]:
    return [m for messages in exc.message_dict.values() for m in messages] if hasattr(
        exc, "error_dict") else exc.messages


@never_cache
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
    return _see_other("orders:cart")


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
    return _see_other("orders:cart")


@never_cache
@require_POST
def cart_line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    try:
        services.cart_line_remove(shopper=request.shopper, line_id=line_id)
    except CartLine.DoesNotExist:
        # Already gone (a double tap): the cart page shows the truth.
        pass
    return _see_other("orders:cart")


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
    return initial


def _checkout_page(request, *, form, cart, notice: str = "", refused=None,
                   status: int = 200) -> HttpResponse:
    return render(request, "orders/checkout.html", {
        "form": form, "cart": cart, "notice": notice, "refused": refused,
    }, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    shopper = request.shopper
    if request.method != "POST":
        cart = selectors.cart_get(shopper=shopper)
        if cart.is_empty:
            return _see_other("orders:cart")
        form = CheckoutForm(initial=_checkout_initial(request, cart))
        return _checkout_page(request, form=form, cart=cart)

    form = CheckoutForm(request.POST)
    if not form.is_valid():
        cart = selectors.cart_get(shopper=shopper)
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
        form = CheckoutForm(data)
        form.is_valid()
        return _checkout_page(request, form=form, cart=cart, notice=notice, status=400)
    try:
        placement = services.order_place(
            shopper=shopper, idempotency_key=form.cleaned_data["idempotency_key"],
            details=form.details, cart_signature_seen=form.cleaned_data["cart_signature"],
        )
    except services.CheckoutRefused as refused:
        cart = selectors.cart_get(shopper=shopper)
        if cart.is_empty and refused.code == "cart_empty":
            return _see_other("orders:cart")
        data = request.POST.copy()
        # Show the cart as it is now and ask again: the new signature is what
        # the shopper is looking at; a used key is replaced by a fresh one.
        data["cart_signature"] = cart.signature
        if refused.code == "idempotency_conflict":
            data["idempotency_key"] = new_idempotency_key()
        form = CheckoutForm(data)
        form.is_valid()
        return _checkout_page(request, form=form, cart=cart, notice=refused.message,
                              refused=refused, status=409)
    except ValidationError as exc:
        cart = selectors.cart_get(shopper=shopper)
        return _checkout_page(request, form=form, cart=cart,
                              notice=" ".join(_validation_messages(exc)), status=400)
    return _see_other(placement.order.get_absolute_url() + "?placed=1")


@never_cache
@require_http_methods(["GET", "HEAD"])
def order_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        order = selectors.order_get_for_shopper(shopper=request.shopper, public_id=public_id)
    except Order.DoesNotExist:
        # Someone else's order and a missing one look the same.
        raise Http404(_("No such order.")) from None
    return render(request, "orders/order_detail.html",
                  {"order": order, "just_placed": request.GET.get("placed") == "1"})


# Enough for anyone's recent history; older orders stay reachable by number.
ORDER_LIST_LIMIT = 30


@never_cache
@require_http_methods(["GET", "HEAD"])
def order_list(request: HttpRequest) -> HttpResponse:
    orders = list(selectors.orders_for_shopper(shopper=request.shopper)[:ORDER_LIST_LIMIT])
    return render(request, "orders/order_list.html", {"orders": orders})
