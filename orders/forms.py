"""Forms of the cart and checkout pages. They validate input; the services decide."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Region

from . import payments
from .addressing import COUNTRY_RULES
from .models import orders_setting
from .selectors import delivery_regions_for_cart
from .services import CheckoutDetails, checkout_details_clean


class CartAddForm(forms.Form):
    product = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=1, initial=1)

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        if quantity > orders_setting("ORDERS_MAX_LINE_QUANTITY"):
            raise ValidationError(
                _("You can order at most %(n)d of one item."),
                params={"n": orders_setting("ORDERS_MAX_LINE_QUANTITY")},
            )
        return quantity


class CartLineUpdateForm(forms.Form):
    # 0 removes the line, like the remove button.
    quantity = forms.IntegerField(min_value=0)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        # "Pune, Maharashtra": a city name alone is ambiguous across states.
        if obj.parent_id and obj.parent and obj.kind != Region.Kind.STATE:
            return f"{obj.name}, {obj.parent.name}"
        return obj.name


def served_regions():
    """Return the regions of the countries we deliver to, country first, then by path."""
    served = Q()
    for code in COUNTRY_RULES:
        served |= Q(path__startswith=f"/{code}/")
    return Region.objects.filter(served).select_related("parent").order_by("path")


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class CheckoutForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=100)
    phone = forms.CharField(
        label=_("Mobile number"), max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    address = forms.CharField(
        label=_("Address"), max_length=500,
        help_text=_("House, street, area and a landmark the courier can find."),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    region = RegionChoiceField(label=_("City or region"), queryset=Region.objects.none(),
                               empty_label=_("Choose…"))
    postal_code = forms.CharField(
        label=_("PIN / postal code"), max_length=12, required=False,
        help_text=_("Leave empty in the UAE."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    payment_method = forms.ChoiceField(label=_("Payment"), widget=forms.RadioSelect)
    # Made when the page is rendered and posted back unchanged: a double tap
    # or a resend on a flaky network carries the same key and finds the order
    # the first submission placed, instead of placing a second one.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # The cart (items, quantities, prices) this page showed the shopper.
    cart_signature = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, shopper=None, **kwargs):
        super().__init__(*args, **kwargs)
        regions = served_regions()
        if shopper is not None:
            # Only places the whole cart can be delivered to: a choice the
            # order would refuse is never offered (and a forged one is a
            # field error, "Select a valid choice").
            regions = delivery_regions_for_cart(shopper=shopper, regions=regions)
        self.fields["region"].queryset = regions
        choices = payments.payment_method_choices()
        self.fields["payment_method"].choices = choices
        if len(choices) == 1:
            self.fields["payment_method"].initial = choices[0][0]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.details: CheckoutDetails = checkout_details_clean(
                name=cleaned["name"], phone=cleaned["phone"], address=cleaned["address"],
                postal_code=cleaned.get("postal_code", ""), region=cleaned["region"],
                payment_method=cleaned["payment_method"],
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned
