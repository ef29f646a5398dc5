from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SellersConfig(AppConfig):
    name = "sellers"
    verbose_name = _("Seller accounts")
    default_auto_field = "django.db.models.BigAutoField"
