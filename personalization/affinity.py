"""Affinity tables: what `rebuild_affinities` precomputes and the feed reads.

Every row belongs to one `RankingVersion`. A rebuild writes a whole new
version beside the active one and then flips the active pointer in one short
transaction, so a reader sees either the old tables or the new ones, never a
half-built mix; old versions are deleted afterwards.

Product columns are plain indexed integers (FKs without a database
constraint): the tables are rebuilt wholesale, a bulk INSERT ... SELECT of
millions of rows should not pay for constraint checks, and deleting a product
must not have to visit them. Readers always join the live product table
(published, in region), so a stale id is simply never served.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "RankingVersion",
    "Segment",
    "ItemNeighbour",
    "ShopperItemStage",
]


def _product_ref(**kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        "catalog.Product", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
        **kwargs,
    )


class RankingVersion(models.Model):
    """One generation of affinity tables."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Building")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")
        # Built by evaluate_ranking from the training window only; never served.
        EVALUATION = "evaluation", _("Evaluation")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.BUILDING)
    # Decay is computed relative to this moment; events after it are ignored.
    as_of = models.DateTimeField(_("as of"))
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    built_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # Row counts and timings, for the admin and the benchmark.
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ranking version")
        verbose_name_plural = _("ranking versions")
        constraints = [
            # The active pointer: at most one row may be active at a time.
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                    name="rankingversion_one_active"),
            # Two rebuilds at once would race for the flip; the second one
            # fails on this constraint before doing any work.
            models.UniqueConstraint(fields=["status"], condition=Q(status="building"),
                                    name="rankingversion_one_building"),
        ]

    def __str__(self) -> str:
        return f"ranking v{self.pk} ({self.status})"


class Segment(models.Model):
    """A group of shoppers: global, a region at any level, region+gender,
    region+age band+gender; with its packed candidate list.

    Keys: "g", "r:<region code>", "rg:<code>:<gender>", "rag:<code>:<age band>:<gender>",
    and "trend" (global, short half-life). The parent of a segment is the next
    coarser one that contains it, so counts never grow down the tree.
    """

    version = models.ForeignKey(RankingVersion, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80)
    # Depth in the segment tree: 0 global, then region levels, then demographics.
    level = models.PositiveSmallIntegerField(default=0)
    parent = models.ForeignKey("self", on_delete=models.DO_NOTHING, db_constraint=False,
                               null=True, blank=True, related_name="+")
    # The region's name at build time, for the "Popular in Pune" cue.
    label = models.CharField(max_length=100, blank=True)
    distinct_shoppers = models.PositiveIntegerField(default=0)
    total_weight = models.FloatField(default=0.0)
    # At or above the k threshold at build time. Segments below it keep only
    # their shopper count: no item or category statistic is ever written.
    usable = models.BooleanField(default=False)
    # [[product_id, score], ...] best first: the candidate list read by the feed
    # in the same single query as the segment itself.
    candidates = models.JSONField(default=list, blank=True)
    # {"<category id>": score}
    categories = models.JSONField(default=dict, blank=True)
    # Only on the global segment ("g"): the mixture weights fitted for this
    # shop at the rebuild, {"cold": {...}, "warm": {...}}; read by the feed in
    # the same single query as the segments. Empty: the configured weights.
    weights = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="segment_unique_key"),
        ]
        indexes = [models.Index(fields=["version", "level"], name="segment_version_level")]

    def __str__(self) -> str:
        return f"{self.key} (v{self.version_id}, {self.distinct_shoppers} shoppers)"


class ItemNeighbour(models.Model):
    """Shoppers who interacted with `product` also interacted with `neighbour`."""

    version = models.ForeignKey(RankingVersion, on_delete=models.CASCADE, related_name="+")
    product = _product_ref()
    neighbour = _product_ref()
    # Co-occurrence count divided by sqrt(shoppers(a) * shoppers(b)) (cosine),
    # so the best sellers do not become everything's neighbour.
    score = models.FloatField()
    shoppers = models.PositiveIntegerField()  # shoppers who had both

    class Meta:
        indexes = [models.Index(fields=["version", "product"], name="itemneighbour_lookup")]

    def __str__(self) -> str:
        return f"{self.product_id} -> {self.neighbour_id}: {self.score:.4f}"


class ShopperItemStage(models.Model):
    """Scratch rows of one rebuild: decayed weight per (shopper, item)."""

    version = models.ForeignKey(RankingVersion, on_delete=models.CASCADE, related_name="+")
    shopper_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    weight = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["version", "shopper_id"], name="shopperitemstage_shopper"),
        ]

    def __str__(self) -> str:
        return f"{self.shopper_id}/{self.product_id}: {self.weight:.4f}"
