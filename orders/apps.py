from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Personalization owns the shopper; orders take part in its export,
        # erasure and sign-in merge through these hooks (see orders/privacy.py).
        from . import privacy

        privacy.register()
