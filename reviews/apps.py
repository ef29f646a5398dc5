from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("Reviews")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Personalization owns the shopper; reviews take part in its export,
        # erasure and sign-in merge through these hooks (see reviews/privacy.py).
        from . import privacy, ranking

        privacy.register()
        # Ratings reach the rebuild as a quality prior the same way (reviews/ranking.py).
        ranking.register()
