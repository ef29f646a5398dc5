from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    # An app for its management commands (backup, restore_sqlite) and the
    # connection hook below.
    name = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .db import sqlite_json_support_settle

        connection_created.connect(sqlite_json_support_settle,
                                   dispatch_uid="core.sqlite_json_support_settle")
