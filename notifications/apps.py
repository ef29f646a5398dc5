from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Orders sends the signal and never imports us (the layers point down).
        from catalog.signals import product_changed
        from orders.signals import order_status_changed

        from . import checks, privacy, receivers  # noqa: F401 (checks registers itself)

        order_status_changed.connect(receivers.order_status_changed_received,
                                     dispatch_uid="notifications.order_status_changed")
        product_changed.connect(receivers.product_changed_received,
                                dispatch_uid="notifications.product_changed")
        privacy.register()
