from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _

SEARCH_MIGRATION = ("catalog", "0008_search_index_translations")


def _ensure_search_index(sender, using, **kwargs):
    # Altering catalog_product on SQLite rebuilds the table and drops the
    # search triggers with it; this puts them back after every migrate.
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .search import search_index_ensure

    applied = MigrationRecorder(connections[using]).applied_migrations()
    # Not before the migration that builds today's index: then it is meant
    # to be gone (or the columns it names do not exist yet).
    if SEARCH_MIGRATION in applied:
        search_index_ensure(using)


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_ensure_search_index, sender=self,
                             dispatch_uid="catalog.ensure_search_index")
        from .markets import connect_signals

        connect_signals()

        # Staff changed a synonym: searches read the new mapping at once.
        from .models import SearchSynonym
        from .search import synonyms_forget

        for signal in (post_save, post_delete):
            signal.connect(synonyms_forget, sender=SearchSynonym,
                           dispatch_uid=f"catalog.synonyms_forget.{signal is post_save}")
