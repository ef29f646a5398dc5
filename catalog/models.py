"""Catalog: who sells what, where, and its pictures.

Money is kept in integer minor units (paise, fils, cents) with an ISO 4217
currency code; nothing here ever touches a float.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .money import CURRENCY_EXPONENT, Priced
from .querysets import ProductImageQuerySet, ProductQuerySet, RegionQuerySet
from .translations import listing_text
from .variants import variant_nearest
from .words import synonym_words_parse


def validate_time_zone(value: str) -> None:
    """Raise ValidationError unless `value` is blank or an IANA time zone name."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("Enter an IANA time zone name, e.g. Asia/Kolkata."),
                              code="time_zone")


class Region(models.Model):
    """A node of the small country > state > city hierarchy."""

    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        STATE = "state", _("State")
        CITY = "city", _("City")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Materialised path of codes ("/IN/IN-MH/IN-MH-PUN/"): ancestors and
    # descendants become one indexed prefix or IN query, no recursion.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    language = models.CharField(_("default language"), max_length=8, blank=True)
    # IANA name ("Asia/Kolkata"); blank inherits the parent's on save, like
    # currency. Notifications keep quiet hours in the shopper's local time.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True,
                                 validators=[validate_time_zone])

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="country", parent__isnull=True)
                | Q(~Q(kind="country"), parent__isnull=False),
                name="region_country_is_root",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent else "/") + f"{self.code}/"
        if not self.currency and self.parent:
            self.currency = self.parent.currency
        if not self.language and self.parent:
            self.language = self.parent.language
        if not self.time_zone and self.parent:
            self.time_zone = self.parent.time_zone
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A region cannot be its own parent.")})
        expected = {self.Kind.STATE: self.Kind.COUNTRY, self.Kind.CITY: self.Kind.STATE}
        if self.kind == self.Kind.COUNTRY and self.parent_id:
            raise ValidationError({"parent": _("A country has no parent region.")})
        if self.kind in expected and (not self.parent or self.parent.kind != expected[self.kind]):
            raise ValidationError(
                {"parent": _("A %(kind)s belongs to a %(parent)s.")
                 % {"kind": self.get_kind_display(), "parent": expected[self.kind].label}}
            )

    def ancestor_codes(self) -> list[str]:
        """Return the codes from the country down to this region."""
        return [code for code in self.path.split("/") if code]


class Category(models.Model):
    """Two levels: a top category (with its icon) and its subcategories."""

    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # One emoji or symbol: no icon font or sprite to download, and readers who
    # read little recognise a picture faster than a word.
    icon = models.CharField(_("icon"), max_length=8, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name

    def get_absolute_url(self) -> str:
        return reverse("storefront:category", kwargs={"slug": self.slug})

    def clean(self) -> None:
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A category cannot be its own parent.")})
            if self.parent.parent_id:
                raise ValidationError({"parent": _("Categories have two levels at most.")})
            if self.pk and self.children.exists():
                raise ValidationError(
                    {"parent": _("This category has subcategories, so it must stay on top.")}
                )


class Seller(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller"
    )
    display_name = models.CharField(_("display name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="sellers"
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("seller")
        verbose_name_plural = _("sellers")

    def __str__(self) -> str:
        return self.display_name


class Product(Priced, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    title = models.CharField(_("title"), max_length=140)
    description = models.TextField(_("description"), blank=True)
    # The listing in the shop's other languages (catalog/translations.py):
    # optional, shown (and searched) in that language, else the original.
    # Columns rather than a translation table: a card stays one row of one
    # query, and the search index covers them like the original.
    title_hi = models.CharField(_("title in Hindi"), max_length=140, blank=True)
    title_ar = models.CharField(_("title in Arabic"), max_length=140, blank=True)
    description_hi = models.TextField(_("description in Hindi"), blank=True)
    description_ar = models.TextField(_("description in Arabic"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="INR")
    price_minor = models.BigIntegerField(
        _("price (minor units)"), help_text=_("In paise/cents: 49900 is 499.00.")
    )
    compare_at_minor = models.BigIntegerField(
        _("compare-at price (minor units)"), null=True, blank=True,
        help_text=_("The usual price, shown struck through when higher than the price."),
    )
    stock = models.IntegerField(_("stock"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # Empty means sold everywhere; otherwise every region under these too.
    regions = models.ManyToManyField(
        Region, blank=True, related_name="products", verbose_name=_("sold in")
    )
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    # Distinct shoppers who showed interest in the last rebuild's window (the
    # same vote the ranking counts), copied here by `rebuild_affinities` so a
    # category page can sort and keyset-page by it in its one query. Not
    # edited by hand; 0 until the first rebuild (db_default: rows inserted by
    # raw SQL get it too).
    popularity = models.PositiveIntegerField(_("popularity"), default=0, db_default=0,
                                             editable=False)
    created_at = models.DateTimeField(_("created"), db_default=models.functions.Now())
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            models.Index(fields=["status", "-created_at"], name="product_status_created"),
            models.Index(fields=["category", "status"], name="product_category_status"),
            models.Index(fields=["external_id"], name="product_external_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price_minor__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(compare_at_minor__isnull=True) | Q(compare_at_minor__gte=0),
                name="product_compare_at_gte_0",
            ),
            # The last line of defence against overselling.
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_gte_0"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "active", "archived"]),
                name="product_status_valid",
            ),
            models.UniqueConstraint(
                fields=["seller", "external_id"],
                condition=~Q(external_id=""),
                name="product_unique_external_id_per_seller",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("storefront:product", kwargs={"pk": self.pk})

    def clean(self) -> None:
        errors = {}
        if self.price_minor is not None and self.price_minor < 0:
            errors["price_minor"] = _("The price cannot be negative.")
        if self.compare_at_minor is not None and self.compare_at_minor < 0:
            errors["compare_at_minor"] = _("The compare-at price cannot be negative.")
        if self.stock is not None and self.stock < 0:
            errors["stock"] = _("Stock cannot be negative.")
        if self.currency not in CURRENCY_EXPONENT:
            errors["currency"] = _("Unsupported currency %(c)s.") % {"c": self.currency}
        if errors:
            raise ValidationError(errors)

    @property
    def local_title(self) -> str:
        """Return the title in the active language, else the original."""
        return listing_text(self, "title", get_language())

    @property
    def local_description(self) -> str:
        """Return the description in the active language, else the original."""
        return listing_text(self, "description", get_language())

    @property
    def public_id(self) -> str:
        """Return the id used in exports and the recommend command."""
        return self.external_id or str(self.pk)


def product_image_upload_to(instance: ProductImage, filename: str) -> str:
    # The master is re-encoded by the pipeline and named after its content hash;
    # the uploaded file name is never used (it may hold anything, even NULs).
    return f"products/masters/{filename}"


class ProductImage(models.Model):
    class Status(models.TextChoices):
        # Stored as uploaded (checked, not yet decoded); a task makes the rest.
        PENDING = "pending", _("Processing")
        READY = "ready", _("Ready")
        # The full decode refused the file; `error` says why, for the seller.
        FAILED = "failed", _("Rejected")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    alt_text = models.CharField(_("alt text"), max_length=200, blank=True)
    # The sanitised master (orientation applied, metadata stripped, sRGB);
    # the raw upload is never stored, since it may carry GPS data.
    original = models.ImageField(
        _("photo"), upload_to=product_image_upload_to, width_field="width",
        height_field="height", max_length=255,
    )
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    # SHA-256 of the file as uploaded (rows from before the task engine: of the master).
    content_hash = models.CharField(max_length=64, editable=False, db_index=True)
    # [{"width": 320, "height": 240, "format": "avif", "name": "...", "bytes": 9123}, ...]
    variants = models.JSONField(default=list, editable=False)
    placeholder_color = models.CharField(max_length=7, default="#dddddd", editable=False)
    # A tiny blurred preview as a data: URI (a few hundred bytes).
    placeholder_data = models.TextField(blank=True, editable=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.READY, editable=False)
    error = models.CharField(_("problem"), max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProductImageQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        constraints = [
            models.CheckConstraint(condition=Q(width__gte=0) & Q(height__gte=0),
                                   name="productimage_dimensions_gte_0"),
            models.CheckConstraint(condition=Q(status__in=["pending", "ready", "failed"]),
                                   name="productimage_status_valid"),
        ]
        indexes = [
            # The sweep and the seller's list look for the few photos not ready yet.
            models.Index(fields=["status"], condition=~Q(status="ready"),
                         name="productimage_not_ready"),
        ]

    def __str__(self) -> str:
        return self.alt_text or f"{self.product_id}#{self.position}"

    def variant_url(self, fmt: str, width: int) -> str | None:
        """Return the URL of the variant nearest to `width` (not narrower, if any) in `fmt`."""
        best = variant_nearest(self.variants, fmt, width)
        return None if best is None else default_storage.url(best["name"])


class BulkUpload(models.Model):
    """One seller's bulk listing upload: a CSV (and a ZIP of photos), from check to written.

    Made when the seller sends the files (already checked: `invalid` with the
    errors, or `checked` waiting for their confirmation); the task that writes
    it moves it to `queued` -> `running` -> `done` (or `failed`, with why).
    The files live in storage until the job is done, then are deleted.
    """

    class State(models.TextChoices):
        INVALID = "invalid", _("Has errors")
        CHECKED = "checked", _("Checked, not written yet")
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Writing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed, nothing written")

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="bulk_uploads",
                               verbose_name=_("seller"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=8, choices=State.choices)
    csv_name = models.CharField(_("file"), max_length=200)
    zip_name = models.CharField(_("photos"), max_length=200, blank=True)
    # Storage names of the files kept between the check and the write.
    csv_file = models.CharField(max_length=255, blank=True, editable=False)
    zip_file = models.CharField(max_length=255, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_bad = models.PositiveIntegerField(_("rows with errors"), default=0)
    photos_total = models.PositiveIntegerField(_("photos"), default=0)
    # [{"line": 12 or null (a problem with the ZIP or the whole file), "message": "..."}],
    # the first MAX_REPORTED_ERRORS of `errors_total`.
    errors = models.JSONField(default=list, blank=True, editable=False)
    errors_total = models.PositiveIntegerField(default=0)
    # What the writing task is doing now, and how far it is (0-100).
    stage = models.CharField(max_length=100, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    created_count = models.PositiveIntegerField(_("new listings"), default=0)
    updated_count = models.PositiveIntegerField(_("updated listings"), default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("bulk upload")
        verbose_name_plural = _("bulk uploads")
        indexes = [models.Index(fields=["seller", "-created_at"], name="bulkupload_seller_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["invalid", "checked", "queued", "running", "done",
                                       "failed"]),
                name="bulkupload_state_valid",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100),
                                   name="bulkupload_progress_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.csv_name} ({self.get_state_display()})"

    @property
    def rows_ok(self) -> int:
        return max(0, self.rows_total - self.rows_bad)

    @property
    def is_working(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class SearchSynonym(models.Model):
    """The words of one catalogue concept in one language, searched as one another.

    Every word of every row sharing a `concept` finds what any of them finds:
    "साड़ी" (hi), "ساري" (ar) and "saree, sari, saadi" (en, with the Hinglish
    spellings shoppers type) all find the sarees, whatever language their
    titles are written in. Kept by staff in the admin; read by catalog.search
    as one cached mapping.
    """

    concept = models.SlugField(
        _("concept"), max_length=60, allow_unicode=True,
        help_text=_("A short name that groups the rows, e.g. saree."),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    words = models.TextField(
        _("words"),
        help_text=_("Single words separated by commas, e.g. saree, sari, saadi."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["concept", "language"]
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")
        constraints = [
            models.UniqueConstraint(fields=["concept", "language"],
                                    name="searchsynonym_unique_concept_language"),
        ]

    def __str__(self) -> str:
        return f"{self.concept} ({self.language})"

    def clean(self) -> None:
        try:
            self.words = ", ".join(synonym_words_parse(self.words or ""))
        except ValueError as exc:
            raise ValidationError({"words": str(exc)}) from None


class SearchMiss(models.Model):
    """A search that found nothing, counted per query text and language.

    What shoppers look for and the shop does not have (or does not call by
    that name): staff read it to add listings or synonyms. Only the words
    searched are kept, never who searched them.
    """

    query = models.CharField(_("query"), max_length=200)
    language = models.CharField(_("language"), max_length=8)
    count = models.PositiveIntegerField(_("searches"), default=0)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        ordering = ["-count", "query"]
        verbose_name = _("search without results")
        verbose_name_plural = _("searches without results")
        constraints = [
            models.UniqueConstraint(fields=["query", "language"],
                                    name="searchmiss_unique_query_language"),
        ]
        indexes = [models.Index(fields=["-last_seen"], name="searchmiss_last_seen")]

    def __str__(self) -> str:
        return self.query
