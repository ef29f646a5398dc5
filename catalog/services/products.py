"""Product writes: create, change, status changes and deletion.

Every write names its actor (or, for creation, its seller) and checks that the
actor may touch the row, so a forged id from the admin or the API reaches
nothing. Changes write only the fields they were given (`update_fields`):
an order decrementing stock at the same moment as a seller fixes a typo in
the title must not have its decrement overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Category, Product, Region, Seller
from catalog.money import decimal_to_minor
from catalog.signals import WATCHED_FIELDS, product_changed_on_commit
from catalog.translations import TRANSLATED_FIELDS, translated_names

from .sellers import actor_sees_all, actor_seller, scope_to_actor

# Fields a change may carry. `seller` is absent on purpose: a listing never
# moves to another seller (its orders and history belong to the first one).
PRODUCT_UPDATABLE_FIELDS = (
    "category",
    "title",
    "description",
    *(name for field in TRANSLATED_FIELDS for name in translated_names(field)),
    "currency",
    "price_minor",
    "compare_at_minor",
    "stock",
    "status",
    "external_id",
)


_TRANSLATION_NAMES = tuple(name for field in TRANSLATED_FIELDS for name in translated_names(field))


def products_for_actor(actor) -> QuerySet[Product]:
    """Return the products `actor` may see and change: all for staff, own for a seller."""
    return scope_to_actor(Product.objects.all(), actor=actor)


def _check_can_change(*, product: Product, actor) -> None:
    if actor_sees_all(actor):
        return
    seller = actor_seller(actor)
    if seller is None or product.seller_id != seller.pk:
        raise PermissionDenied(_("You may only change your own products."))


def _check_prices(product: Product) -> None:
    if (
        product.compare_at_minor is not None
        and product.price_minor is not None
        and product.compare_at_minor < product.price_minor
    ):
        raise ValidationError(
            {"compare_at_minor": _("The compare-at price cannot be lower than the price.")}
        )


def _save_or_field_error(product: Product, **save_kwargs) -> None:
    # The unique (seller, external_id) constraint is checked by full_clean(),
    # but two requests can pass that check together; the savepoint turns the
    # loser's IntegrityError into the same field error instead of a 500.
    try:
        with transaction.atomic():
            product.save(**save_kwargs)
    except IntegrityError as exc:
        raise ValidationError(
            {"external_id": _("You already have a product with this external id.")}
        ) from exc


def price_to_minor(amount: Decimal, currency: str) -> int:
    """Return `amount` in minor units of `currency`; raise ValidationError when it cannot be."""
    if not amount.is_finite():
        raise ValidationError(_("Enter a number."))
    try:
        return decimal_to_minor(amount, currency)
    except ValueError as exc:
        raise ValidationError(
            _("Use at most two decimal places, as in 499.50."), code="precision"
        ) from exc


@transaction.atomic
def product_create(
    *,
    seller: Seller,
    category: Category,
    title: str,
    price_minor: int,
    currency: str | None = None,
    description: str = "",
    compare_at_minor: int | None = None,
    stock: int = 0,
    status: str = Product.Status.DRAFT,
    regions: Iterable[Region] = (),
    external_id: str = "",
    translations: dict[str, str] | None = None,
) -> Product:
    """Create a listing for `seller`; raise ValidationError with field messages on bad input.

    `translations`: the title and description in other languages, by field
    name (`title_hi`, `description_ar`, ...), each optional.
    """
    translations = dict(translations or {})
    if unknown := sorted(set(translations) - set(_TRANSLATION_NAMES)):
        raise ValueError(f"product_create has no translated field: {', '.join(unknown)}")
    product = Product(
        seller=seller,
        category=category,
        title=(title or "").strip(),
        description=description or "",
        currency=currency or settings.SHOP_DEFAULT_CURRENCY,
        price_minor=price_minor,
        compare_at_minor=compare_at_minor,
        stock=stock,
        status=status,
        external_id=(external_id or "").strip(),
        **{name: (value or "").strip() for name, value in translations.items()},
    )
    product.full_clean()
    _check_prices(product)
    _save_or_field_error(product)
    regions = list(regions)
    if regions:
        product.regions.set(regions)
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    actor,
    regions: Iterable[Region] | None = None,
    stock_seen: int | None = None,
    **changes,
) -> Product:
    """Change the given fields of `product` on behalf of `actor` and return the fresh row.

    `stock_seen` is the stock the editor was shown: if orders changed it since
    and the change sets a new stock, the change is refused (ValidationError on
    `stock`) rather than silently undoing those orders' decrements.
    """
    if unknown := sorted(set(changes) - set(PRODUCT_UPDATABLE_FIELDS)):
        raise ValueError(f"product_update cannot change: {', '.join(unknown)}")
    _check_can_change(product=product, actor=actor)
    # Lock the row so the checks below see what the save will overwrite.
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if "stock" in changes and stock_seen is not None and locked.stock != stock_seen:
        raise ValidationError(
            {
                "stock": _(
                    "Stock changed from %(seen)d to %(now)d while you were editing "
                    "(orders came in). Check the new figure and save again."
                )
                % {"seen": stock_seen, "now": locked.stock}
            }
        )
    before = {field: getattr(locked, field) for field in WATCHED_FIELDS}
    for field, value in changes.items():
        if field in ("title", "external_id", *_TRANSLATION_NAMES) and isinstance(value, str):
            value = value.strip()
        setattr(locked, field, value)
    locked.full_clean()
    _check_prices(locked)
    if changes:
        _save_or_field_error(locked, update_fields=[*changes, "updated_at"])
    if regions is not None:
        locked.regions.set(list(regions))
    # After commit, for the layers above (back in stock, price drop notifications).
    product_changed_on_commit(sender=Product, product_id=locked.pk, changes={
        field: (old, getattr(locked, field)) for field, old in before.items()
        if getattr(locked, field) != old})
    return locked


@transaction.atomic
def product_set_status(*, actor, product_ids: Iterable[int], status: str) -> int:
    """Set `status` on those of `product_ids` that `actor` may change; return how many changed.

    Ids the actor may not touch (another seller's, forged in a POST) are
    skipped, never changed.
    """
    if status not in Product.Status.values:
        raise ValidationError({"status": _("Unknown status %(s)s.") % {"s": status}})
    ids = [int(pk) for pk in product_ids]
    scoped = products_for_actor(actor).filter(pk__in=ids).exclude(status=status)
    # Lock in id order so two bulk actions over overlapping rows cannot deadlock.
    locked_ids = list(scoped.select_for_update().order_by("pk").values_list("pk", flat=True))
    if not locked_ids:
        return 0
    return Product.objects.filter(pk__in=locked_ids).update(
        status=status, updated_at=timezone.now()
    )


@transaction.atomic
def product_delete(*, product: Product, actor) -> None:
    """Delete `product` (and its images) on behalf of `actor`."""
    _check_can_change(product=product, actor=actor)
    product.delete()


@transaction.atomic
def products_delete(*, actor, product_ids: Iterable[int]) -> int:
    """Delete those of `product_ids` that `actor` may change; return how many were deleted."""
    ids = [int(pk) for pk in product_ids]
    _total, per_model = products_for_actor(actor).filter(pk__in=ids).delete()
    return per_model.get(Product._meta.label, 0)


# Rows per executemany batch of the popularity copy: bounds the parameter list
# held in memory on a catalogue of hundreds of thousands of listings.
POPULARITY_BATCH = 1000


@transaction.atomic
def products_popularity_set(*, counts: Mapping[int, int]) -> int:
    """Make `counts` (product id -> distinct interested shoppers) every listing's
    popularity, 0 for the rest; return how many figures differed and were sent
    (an id deleted meanwhile is sent and reaches nothing).

    Only rows whose figure differs are written, each with one prepared UPDATE
    run through executemany (as the importer does): a rebuild after a quiet
    hour rewrites a handful of rows, not the catalogue. No actor: this is a
    statistic of the whole shop written by `rebuild_affinities`, never by a
    seller, and it leaves `updated_at` alone (nothing a seller did changed).
    """
    wanted = {int(pk): int(n) for pk, n in counts.items() if n > 0}
    current = dict(Product.objects.filter(popularity__gt=0).values_list("pk", "popularity"))
    changes = [(n, pk) for pk, n in wanted.items() if current.get(pk) != n]
    changes += [(0, pk) for pk in current if pk not in wanted]
    table = connection.ops.quote_name(Product._meta.db_table)
    sql = f"UPDATE {table} SET popularity = %s WHERE id = %s"  # noqa: S608 (our table name)
    with connection.cursor() as cursor:
        for start in range(0, len(changes), POPULARITY_BATCH):
            cursor.executemany(sql, changes[start:start + POPULARITY_BATCH])
    return len(changes)
