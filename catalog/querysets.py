"""Chainable, side-effect-free visibility rules for the catalog."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q


class RegionQuerySet(models.QuerySet):
    def countries(self) -> RegionQuerySet:
        return self.filter(parent__isnull=True)

    def within(self, code: str) -> RegionQuerySet:
        """Return the region with this code and everything below it."""
        return self.filter(path__contains=f"/{code}/")


class ProductImageQuerySet(models.QuerySet):
    def shown(self) -> ProductImageQuerySet:
        """Return the photos shoppers may see: processed ones.

        A photo still being processed (or rejected) has no variants, and its
        stored file is the upload as received, metadata and all: it is never
        served to shoppers. Its listing shows its next ready photo, or the
        placeholder tile when it has none yet.
        """
        return self.filter(status="ready")


class ProductQuerySet(models.QuerySet):
    def published(self) -> ProductQuerySet:
        """Return the listings a shopper may see: active ones."""
        return self.filter(status="active")

    def published_among(self, ids) -> ProductQuerySet:
        """Return the published listings among `ids`, found by primary key, unordered.

        `published().filter(pk__in=ids)` lets SQLite without ANALYZE statistics
        walk the status index over the whole catalogue instead of looking up
        the ids: 10 ms rather than 0.4 ms for 40 ids among 100,000 listings.
        The correlated EXISTS keeps published() the one definition.
        """
        visible = self.model._default_manager.published().filter(pk=OuterRef("pk"))
        return self.filter(pk__in=ids).filter(Exists(visible)).order_by()

    def with_images(self) -> ProductQuerySet:
        """Prefetch every photo shoppers may see, in gallery order, as `image_list`.

        to_attr: templates and serializers read `product.image_list`, never
        `product.images.all`, so none of them can issue a query per product.
        """
        images = self.model.images.rel.related_model.objects.shown().order_by("position", "id")
        return self.prefetch_related(models.Prefetch("images", queryset=images,
                                                     to_attr="image_list"))

    def for_seller(self, seller) -> ProductQuerySet:
        return self.filter(seller=seller)

    def in_stock(self) -> ProductQuerySet:
        return self.filter(stock__gt=0)

    def in_region(self, region) -> ProductQuerySet:
        """Return products sold everywhere or in `region` or any region above it.

        A shopper in Pune can buy what is sold in Pune, in Maharashtra or in all
        of India; listings with no regions at all are sold everywhere.
        """
        if region is None:
            return self
        codes = region.ancestor_codes()
        return self.filter(Q(regions__isnull=True) | Q(regions__code__in=codes)).distinct()

    def for_market(self, market) -> ProductQuerySet:
        """Return products a shopper in `market` can buy: sold there, in its currency.

        None (a shop without regions) filters nothing. See catalog.markets.
        """
        if market is None:
            return self
        return self.filter(market.products_q())

    def in_category(self, category) -> ProductQuerySet:
        """Return products in `category` or any of its subcategories."""
        return self.filter(Q(category=category) | Q(category__parent=category))
