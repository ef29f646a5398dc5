from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

SEARCH_MIGRATION = ("catalog", "0002_product_search_index")


def _ensure_search_index(sender, using, **kwargs):
    # Altering catalog_product on SQLite rebuilds the table and drops the
    # search triggers with it; this puts them back after every migrate.
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .search import search_index_ensure

    applied = MigrationRecorder(connections[using]).applied_migrations()
    # Not after `migrate catalog 0001`: then the index is meant to be gone.
    if SEARCH_MIGRATION in applied:
        search_index_ensure(using)


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_index, sender=self,
                             dispatch_uid="catalog.ensure_search_index")
