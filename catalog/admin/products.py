"""Products and their photos in the admin, scoped to the acting seller."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalog.forms import ProductImageForm, ProductImageInlineFormSet
from catalog.models import Category, Product, ProductImage, Seller
from catalog.money import CURRENCY_EXPONENT, minor_to_decimal
from catalog.services import (
    actor_sees_all,
    actor_seller,
    price_to_minor,
    product_create,
    product_delete,
    product_set_status,
    product_update,
    products_delete,
    scope_to_actor,
)

from .base import SellerScopedAdmin, adopt_saved

TRANSLATION_FIELD_NAMES = ("title_hi", "description_hi", "title_ar", "description_ar")

# Prices above this are typing mistakes, and well inside BigIntegerField.
MAX_PRICE = Decimal("99999999.99")
# Short price labels keep the list's price column narrow on a phone.
CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "BDT": "৳"}


class ProductAdminForm(forms.ModelForm):
    """Prices typed as decimals ("499.00"), stored in minor units, never via float."""

    price = forms.DecimalField(
        label=_("Price"), min_value=Decimal(0), max_value=MAX_PRICE,
        help_text=_("For example 499.00"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    compare_at_price = forms.DecimalField(
        label=_("Compare-at price"), required=False, min_value=Decimal(0), max_value=MAX_PRICE,
        help_text=_("The usual price, shown struck through. Leave empty if there is none."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    stock = forms.IntegerField(
        label=_("Stock"), min_value=0, max_value=1_000_000,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    # The stock shown when the page was opened: if orders change it while the
    # seller edits, saving a new figure must not silently undo them.
    stock_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)

    # Set by ProductAdmin.get_form(): the seller a seller's form writes for.
    acting_seller: Seller | None = None

    class Meta:
        model = Product
        # Never the minor-unit columns: sellers type decimals (price fields above).
        fields = (
            "seller", "category", "title", "description", "currency", "stock", "status",
            "regions", "external_id", "title_hi", "description_hi", "title_ar",
            "description_ar",
        )
        # Each translation is typed in its own script and direction.
        widgets = {
            "title_hi": forms.TextInput(attrs={"lang": "hi", "dir": "ltr"}),
            "description_hi": forms.Textarea(attrs={"lang": "hi", "dir": "ltr", "rows": 4}),
            "title_ar": forms.TextInput(attrs={"lang": "ar", "dir": "rtl"}),
            "description_ar": forms.Textarea(attrs={"lang": "ar", "dir": "rtl", "rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [(c, c) for c in sorted(CURRENCY_EXPONENT)]
        if self.instance.pk:
            self.initial.setdefault("price", self.instance.price)
            self.initial.setdefault("compare_at_price", self.instance.compare_at_price)
            self.initial.setdefault("stock_seen", self.instance.stock)
        else:
            self.initial.setdefault("currency", settings.SHOP_DEFAULT_CURRENCY)

    def _seller(self) -> Seller | None:
        if self.instance.pk:
            return self.instance.seller
        return self.acting_seller or self.cleaned_data.get("seller")

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("currency") or self.instance.currency
        minor = {}
        for name in ("price", "compare_at_price"):
            amount = cleaned.get(name)
            if amount is None:
                minor[name] = None
                continue
            try:
                minor[name] = price_to_minor(amount, currency)
            except ValidationError as exc:
                self.add_error(name, exc)
        if (
            minor.get("price") is not None
            and minor.get("compare_at_price") is not None
            and minor["compare_at_price"] < minor["price"]
        ):
            self.add_error(
                "compare_at_price", _("The compare-at price cannot be lower than the price.")
            )
        if "price" in minor:
            self.instance.price_minor = minor["price"]
        if "compare_at_price" in minor:
            self.instance.compare_at_minor = minor["compare_at_price"]
        self._clean_external_id(cleaned)
        self._clean_stock_conflict(cleaned)
        return cleaned

    def _clean_external_id(self, cleaned) -> None:
        # The unique (seller, external_id) constraint is skipped by the model
        # validation when `seller` is not a form field (sellers never see it).
        external_id = (cleaned.get("external_id") or "").strip()
        seller = self._seller()
        if not external_id or seller is None:
            return
        clash = Product.objects.filter(seller=seller, external_id=external_id)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("external_id", _("You already have a product with this external id."))

    def _clean_stock_conflict(self, cleaned) -> None:
        seen, stock = cleaned.get("stock_seen"), cleaned.get("stock")
        if not self.instance.pk or seen is None or stock is None or stock == seen:
            return
        current = Product.objects.filter(pk=self.instance.pk).values_list("stock", flat=True)
        current = next(iter(current), seen)
        if current != seen:
            self.add_error(
                "stock",
                _(
                    "Stock changed from %(seen)d to %(now)d while you were editing "
                    "(orders came in). Check the new figure and save again."
                )
                % {"seen": seen, "now": current},
            )
            # Show the fresh figure so the next save compares against it.
            self.data = self.data.copy()
            self.data[self.add_prefix("stock_seen")] = str(current)

    def product_changes(self) -> dict:
        """Return the model fields this submission changes, for product_update()."""
        changes = {}
        for name in self.changed_data:
            if name in ("price", "compare_at_price", "stock", "stock_seen", "regions", "seller"):
                continue
            changes[name] = self.cleaned_data[name]
        # Minor units depend on the currency's exponent, so a new currency
        # rewrites both amounts even when the typed figures look the same.
        currency_changed = "currency" in self.changed_data
        if currency_changed or "price" in self.changed_data:
            changes["price_minor"] = self.instance.price_minor
        if currency_changed or "compare_at_price" in self.changed_data:
            changes["compare_at_minor"] = self.instance.compare_at_minor
        # Stock counts as changed when it differs from what the editor was
        # shown, not from the row now: an order may have moved it meanwhile.
        seen = self.cleaned_data.get("stock_seen")
        stock = self.cleaned_data.get("stock")
        touched = stock != seen if seen is not None else "stock" in self.changed_data
        if stock is not None and touched:
            changes["stock"] = stock
        return changes


def _image_preview(image: ProductImage | None, size: int) -> str:
    if image is None:
        return "—"
    if image.status == ProductImage.Status.PENDING:
        return format_html(
            '<span class="photo-processing" style="display:inline-block;min-width:{}px">{}</span>',
            size, _("Processing…"),
        )
    if image.status == ProductImage.Status.FAILED:
        return format_html(
            '<strong class="photo-rejected errornote" role="alert">{}</strong> {}',
            _("Photo rejected:"), image.error,
        )
    url = image.variant_url("webp", 160) or image.variant_url("jpeg", 160)
    if not url:
        return "—"
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="" loading="lazy" decoding="async" '
        'style="object-fit:cover;border-radius:4px;background:{}">',
        url, size, size, image.placeholder_color,
    )


class ProductImageInline(admin.StackedInline):
    """Photos of a product: stacked, since a table of file inputs overflows a phone."""

    model = ProductImage
    # Validation through the image pipeline, saving (and file clean-up on
    # delete) through the images service: the raw upload is never stored.
    form = ProductImageForm
    formset = ProductImageInlineFormSet
    extra = 1
    fields = ("preview", "original", "alt_text", "position")
    readonly_fields = ("preview",)
    verbose_name = _("photo")
    verbose_name_plural = _("photos")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_to_actor(
            super().get_queryset(request), actor=request.user, seller_lookup="product__seller"
        )

    def _owns(self, request: HttpRequest, obj) -> bool:
        if obj is None or actor_sees_all(request.user):
            return True
        seller = actor_seller(request.user)
        return seller is not None and obj.seller_id == seller.pk

    def has_add_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._owns(request, obj) and super().has_delete_permission(request, obj)

    @admin.display(description=_("Preview"))
    def preview(self, obj: ProductImage) -> str:
        return _image_preview(obj if obj.pk else None, 96)


class CategoryListFilter(admin.SimpleListFilter):
    """Filter by category, a top category including its subcategories.

    Django's related filter would run one query per subcategory for its
    "Parent › Child" labels; this one reads them in one.
    """

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(str(c.pk), str(c)) for c in Category.objects.select_related("parent")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not str(value).isdigit():
            raise IncorrectLookupParameters(f"bad category {value!r}")
        return queryset.in_category(int(value))


@admin.register(Product)
class ProductAdmin(SellerScopedAdmin):
    form = ProductAdminForm
    inlines = [ProductImageInline]
    list_select_related = ("seller", "category", "category__parent")
    search_fields = ("title", "title_hi", "title_ar", "=external_id")
    autocomplete_fields = ("category", "seller", "regions")
    list_per_page = 25  # a short page on a slow, paid connection
    # One COUNT instead of two on every changelist.
    show_full_result_count = False
    actions = ["mark_active", "mark_draft", "mark_archived", "delete_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The first photo of each listing for the thumbnail column: one query
        # for the whole page.
        return super().get_queryset(request).prefetch_related(
            Prefetch(
                "images",
                queryset=ProductImage.objects.order_by("position", "id"),
                to_attr="admin_images",
            )
        )

    def changelist_view(self, request, extra_context=None):
        # Sellers upload many listings at once from here (catalog/admin/bulk.py).
        extra_context = {**(extra_context or {}),
                         "may_bulk_upload": actor_seller(request.user) is not None}
        return super().changelist_view(request, extra_context)

    def get_list_display(self, request: HttpRequest):
        if actor_sees_all(request.user):
            return ["thumbnail", "title", "price_display", "stock", "status", "seller",
                    "category"]
        # Four columns fit a 360px phone: the status sits under the title.
        return ["thumbnail", "listing", "price_display", "stock"]

    def get_list_display_links(self, request: HttpRequest, list_display):
        return ("thumbnail", "title" if "title" in list_display else "listing")

    def get_list_filter(self, request: HttpRequest):
        if actor_sees_all(request.user):
            return ("status", CategoryListFilter, "seller")
        return ("status", CategoryListFilter)

    def get_fieldsets(self, request: HttpRequest, obj=None):
        main = ["title", "category", "description"]
        if actor_sees_all(request.user):
            # Staff pick the seller when adding; a listing never changes seller.
            main.insert(0, "seller")
        return [
            (None, {"fields": main}),
            (_("Price and stock"), {
                "fields": ["price", "compare_at_price", "currency", "stock", "stock_seen",
                           "status"],
            }),
            (_("In other languages"), {
                "fields": ["title_hi", "description_hi", "title_ar", "description_ar"],
                "description": _("Optional. Shoppers who read Hindi or Arabic see these "
                                 "instead, and find the listing by these words; empty "
                                 "fields show the title and description above."),
            }),
            (_("Where it is sold"), {
                "fields": ["regions", "external_id"],
                "description": _("Leave regions empty to sell everywhere."),
            }),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return ("seller",) if obj is not None and actor_sees_all(request.user) else ()

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.acting_seller = None if actor_sees_all(request.user) else actor_seller(request.user)
        return form

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = product_update(
                product=obj, actor=request.user,
                regions=data["regions"] if "regions" in form.changed_data else None,
                stock_seen=data.get("stock_seen"),
                **form.product_changes(),
            )
        else:
            seller = data["seller"] if actor_sees_all(request.user) else actor_seller(request.user)
            saved = product_create(
                seller=seller, category=data["category"], title=data["title"],
                description=data.get("description", ""), currency=data["currency"],
                price_minor=obj.price_minor, compare_at_minor=obj.compare_at_minor,
                stock=data["stock"], status=data["status"], regions=data["regions"],
                external_id=data.get("external_id", ""),
                translations={name: data.get(name, "") for name in TRANSLATION_FIELD_NAMES},
            )
        adopt_saved(obj, saved)

    def render_change_form(self, request, context, add=False, change=False, form_url="",
                           obj=None):
        if obj is not None and request.method == "GET":
            self._photo_messages(request, obj)
        return super().render_change_form(request, context, add=add, change=change,
                                          form_url=form_url, obj=obj)

    def _photo_messages(self, request: HttpRequest, product: Product) -> None:
        # A photo refused by the decode in the worker, after the save had
        # already answered: the seller learns it here, on the product.
        pending = 0
        for image in product.images.exclude(status=ProductImage.Status.READY):
            if image.status == ProductImage.Status.FAILED:
                messages.error(request, _(
                    "Photo %(position)d was rejected: %(reason)s Upload it again or delete it."
                ) % {"position": image.position + 1, "reason": image.error})
            else:
                pending += 1
        if pending:
            messages.info(request, ngettext(
                "%(n)d photo is being processed; shoppers see it once it is ready.",
                "%(n)d photos are being processed; shoppers see them once they are ready.",
                pending,
            ) % {"n": pending})

    def save_related(self, request, form, formsets, change):
        # The services wrote the regions; form.save_m2m() would write them again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        product_delete(product=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        products_delete(actor=request.user, product_ids=queryset.values_list("pk", flat=True))

    @admin.display(description=_("Photo"))
    def thumbnail(self, obj: Product) -> str:
        images = getattr(obj, "admin_images", None)
        if images is None:
            images = list(obj.images.all())
        return _image_preview(images[0] if images else None, 48)

    @admin.display(description=_("Product"), ordering="title")
    def listing(self, obj: Product) -> str:
        return format_html(
            '{}<br><small class="listing-status status-{}">{}</small>',
            obj.title, obj.status, obj.get_status_display(),
        )

    @admin.display(description=_("Price"), ordering="price_minor")
    def price_display(self, obj: Product) -> str:
        places = CURRENCY_EXPONENT.get(obj.currency, 2)
        amount = number_format(
            minor_to_decimal(obj.price_minor, obj.currency), places, force_grouping=True
        )
        symbol = CURRENCY_SYMBOLS.get(obj.currency)
        # A no-break space keeps a currency code on the same line as its amount.
        return f"{symbol}{amount}" if symbol else f"{obj.currency}\u00a0{amount}"

    def _set_status(self, request, queryset, status: str) -> None:
        # The ids come from the scoped changelist queryset; the service scopes
        # them again, so a forged id in the POST reaches nothing.
        changed = product_set_status(
            actor=request.user, product_ids=queryset.values_list("pk", flat=True), status=status
        )
        label = Product.Status(status).label
        self.message_user(
            request,
            ngettext(
                "%(n)d product marked %(status)s.", "%(n)d products marked %(status)s.", changed
            ) % {"n": changed, "status": label.lower()},
            messages.SUCCESS,
        )

    @admin.action(description=_("Mark selected products active"), permissions=["change"])
    def mark_active(self, request, queryset):
        self._set_status(request, queryset, Product.Status.ACTIVE)

    @admin.action(description=_("Mark selected products draft"), permissions=["change"])
    def mark_draft(self, request, queryset):
        self._set_status(request, queryset, Product.Status.DRAFT)

    @admin.action(description=_("Mark selected products archived"), permissions=["change"])
    def mark_archived(self, request, queryset):
        self._set_status(request, queryset, Product.Status.ARCHIVED)
