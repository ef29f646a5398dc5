"""Product list filters. Every bad value is a 400 naming the parameter: a typo in
`?category=` that silently returned the whole catalog would cost the shopper a
page of data they never asked for."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalog.markets import Market, market_from_headers, market_get
from catalog.models import Category, Product, Region, Seller
from catalog.money import decimal_to_minor
from catalog.search import products_search, search_miss_record, search_terms

# The full-text search answers ids by relevance; the list then filters and
# orders them like any other list. Capping the candidates keeps a one-letter
# query from pulling the whole catalog into an IN clause.
SEARCH_MAX_CANDIDATES = 500

ORDERINGS = {
    "newest": ("-created_at", "-id"),
    "price": ("price_minor", "id"),
    "-price": ("-price_minor", "-id"),
}


class StrictBooleanField(forms.Field):
    """true or false only (empty: unset). forms.NullBooleanField reads any other
    word as "unset"; the schema lists exactly these values."""

    default_error_messages = {"invalid": _("Use true or false.")}
    values = {"true": True, "false": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.values[value]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class ProductFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_price"), cleaned.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", _("Must not be below min_price."))
        return cleaned


def _price_field_kwargs() -> dict:
    return {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.all(), to_field_name="slug", method="filter_category",
        label=_("Category slug; includes its subcategories."),
    )
    seller = django_filters.ModelChoiceFilter(
        queryset=Seller.objects.all(), to_field_name="slug", label=_("Seller slug."),
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), to_field_name="code", method="filter_region",
        label=_("Region code: listings sold there (everywhere, there, or in a region above "
                "it) and priced in its currency. Without it, the region Accept-Language "
                "suggests, else the shop's default."),
    )
    min_price = django_filters.NumberFilter(
        method="filter_min_price", label=_("Lowest price in major units (e.g. 199.50)."),
        **_price_field_kwargs(),
    )
    max_price = django_filters.NumberFilter(
        method="filter_max_price", label=_("Highest price in major units."),
        **_price_field_kwargs(),
    )
    in_stock = StrictBooleanFilter(method="filter_in_stock", label=_("true or false."))
    q = django_filters.CharFilter(method="filter_q", max_length=100,
                                  label=_("Words to search in titles and descriptions."))
    ordering = django_filters.ChoiceFilter(
        choices=[(key, key) for key in ORDERINGS], method="filter_ordering",
        empty_label=None, label=_("newest (default), price or -price."),
    )

    class Meta:
        model = Product
        fields = ["category", "seller", "region", "min_price", "max_price", "in_stock", "q",
                  "ordering"]
        form = ProductFilterForm

    @property
    def qs(self) -> QuerySet[Product]:
        queryset = super().qs
        if self.form.cleaned_data.get("region") is None:
            # Every list is one market, one currency (catalog.markets).
            queryset = queryset.for_market(self.market)
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*ORDERINGS["newest"])
        return queryset

    @property
    def market(self) -> Market | None:
        """Return the market listed: `?region=`, else the one the headers suggest."""
        region = self.form.cleaned_data.get("region")
        if region is not None:
            return market_get(region)
        return market_from_headers(self.request) if self.request is not None else None

    def filter_category(self, queryset, name, category: Category):
        return queryset.in_category(category)

    # The schema cannot guess the type of a method filter on a model instance: a code.
    @extend_schema_field(OpenApiTypes.STR)
    def filter_region(self, queryset, name, region: Region):
        return queryset.for_market(market_get(region))

    @staticmethod
    def _minor(value: Decimal) -> int:
        # Every supported currency has two decimals (catalog.models.CURRENCY_EXPONENT);
        # the form field already refused a third.
        return decimal_to_minor(value, settings.SHOP_DEFAULT_CURRENCY)

    def filter_min_price(self, queryset, name, value: Decimal):
        return queryset.filter(price_minor__gte=self._minor(value))

    def filter_max_price(self, queryset, name, value: Decimal):
        return queryset.filter(price_minor__lte=self._minor(value))

    @extend_schema_field({"type": "string", "enum": ["", "true", "false"]})
    def filter_in_stock(self, queryset, name, value: bool):
        return queryset.filter(stock__gt=0) if value else queryset.filter(stock__lte=0)

    def filter_q(self, queryset, name, value: str):
        if not search_terms(value):
            return queryset.none()
        result = products_search(query=value, page=1, page_size=SEARCH_MAX_CANDIDATES,
                                 market=self.market)
        if not result.product_ids:
            # The pages count these for staff too (words and language, no caller).
            search_miss_record(query=value, language=get_language() or "")
        return queryset.filter(pk__in=result.product_ids)

    # An empty value means "unset", as for every other parameter here (a client
    # that builds the query from a form sends `ordering=`): the schema says so.
    @extend_schema_field({"type": "string", "enum": ["", *ORDERINGS]})
    def filter_ordering(self, queryset, name, value: str):
        return queryset.order_by(*ORDERINGS[value])

