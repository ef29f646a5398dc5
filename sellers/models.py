"""What the shop owes its sellers for cash on delivery, and what it has paid them.

Couriers take cash at the door for the shop; the order lines record it
(`OrderLine.cod_collected_minor`). A `Remittance` is one payment of that cash
from the shop to a seller (a bank transfer, a UPI payment, cash at the
counter), entered by staff with the payment's reference. What is owed is
what was collected minus what was remitted, per currency (sellers.selectors).
Remittances are accounting records: never edited, and only deleted by staff
who hold the delete permission (the admin's history keeps who did it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Remittance(models.Model):
    seller = models.ForeignKey(
        "catalog.Seller", on_delete=models.PROTECT, related_name="remittances",
        verbose_name=_("seller"),
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_on = models.DateField(_("date paid"))
    # The bank's or wallet's transaction id (UTR, UPI ref): how the seller
    # matches this row to their statement, and how a double entry is caught.
    reference = models.CharField(_("reference"), max_length=64)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["-paid_on", "-id"]
        verbose_name = _("cash remittance")
        verbose_name_plural = _("cash remittances")
        indexes = [models.Index(fields=["seller", "paid_on"], name="remittance_seller_paid_on")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0),
                                   name="remittance_amount_gt_0"),
            models.UniqueConstraint(fields=["seller", "reference"],
                                    name="remittance_unique_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.paid_on})"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class SellerApplication(models.Model):
    """A sign-up from the storefront's "Sell on the shop" page, until staff decide.

    The login exists from the start (username = the phone number in E.164,
    not staff, so it cannot open the admin) so that the applicant can see the
    state of their application; approval makes it a seller
    (catalog.services.seller_attach).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_application"
    )
    display_name = models.CharField(_("shop name"), max_length=100)
    phone = models.CharField(_("mobile number"), max_length=20, unique=True)
    region = models.ForeignKey(
        "catalog.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    email = models.EmailField(_("e-mail"), blank=True)
    # Which terms they accepted (settings.SELLER_TERMS_VERSION), and when.
    terms_version = models.CharField(_("terms accepted"), max_length=20)
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.PENDING)
    # Shown to the applicant: why it was refused (required then).
    reason = models.TextField(_("reason"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )
    seller = models.OneToOneField(
        "catalog.Seller", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("seller"),
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("seller application")
        verbose_name_plural = _("seller applications")
        indexes = [models.Index(fields=["status", "submitted_at"], name="sellerapp_status")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values),
                                   name="sellerapp_status_valid"),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(reason=""),
                                   name="sellerapp_refused_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_status_display()})"
