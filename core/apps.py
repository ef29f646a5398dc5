from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    # An app only so that its management commands (backup, restore_sqlite) load.
    name = "core"
    verbose_name = _("Core")
    default_auto_field = "django.db.models.BigAutoField"
