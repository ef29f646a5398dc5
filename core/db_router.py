"""Optional read replica for the read-heavy feed (env `DATABASE_REPLICA_URL`).

With a replica configured, reads of the catalogue and of the affinity tables
that rank the feed go to the `replica` alias; every write, and every read of
per-shopper or order data, stays on `default`:

- Shopper profiles, tokens, events, carts and orders are read right after
  they are written (a checkout reads the stock it locks, a shopper reads the
  profile they just saved); replication lag there would show stale data.
- Any read inside a transaction on `default` stays there too: the admin's
  change views, checkout and `rebuild_affinities` read what they are about to
  write, under locks only the primary holds.

Catalogue pages can be a replication lag behind a seller's edit (typically
milliseconds on streaming replication): that is the price of moving the feed's
reads off the primary. Migrations run on `default` only; the replica is a
copy maintained by PostgreSQL itself (docs/DEPLOY.md).
"""

from __future__ import annotations

from django.db import connections

REPLICA_ALIAS = "replica"

# app_label.ModelName (lower case), as Django's model _meta.label_lower names them.
REPLICA_MODELS = frozenset({
    "catalog.region",
    "catalog.category",
    "catalog.seller",
    "catalog.product",
    "catalog.productimage",
    "catalog.product_regions",
    "personalization.rankingversion",
    "personalization.segment",
    "personalization.itemneighbour",
})


class ReadReplicaRouter:
    """Route reads of REPLICA_MODELS to the replica alias when it is configured."""

    def db_for_read(self, model, **hints):
        if model._meta.label_lower not in REPLICA_MODELS:
            return "default"
        if REPLICA_ALIAS not in connections.settings:
            return "default"
        # Read-your-writes inside a transaction: the replica cannot see them yet.
        if connections["default"].in_atomic_block:
            return "default"
        return REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases are the same database (one is a copy of the other).
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
