from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_search_index(sender, using, **kwargs):
    # Altering catalog_product on SQLite rebuilds the table and drops the
    # search triggers with it; this puts them back after every migrate.
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from shop.search import search_index_ensure

    applied = MigrationRecorder(connections[using]).applied_migrations()
    # Not after `migrate shop zero`: then the index is meant to be gone.
    if ("shop", "0001_product_search_index") in applied:
        search_index_ensure(using)


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = _("Storefront")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_index, sender=self,
                             dispatch_uid="shop.ensure_search_index")
