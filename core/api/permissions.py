"""Permissions shared by the API modules."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class HasShopper(BasePermission):
    """The caller is a shopper, by token or by the storefront cookie."""

    message = _("Identify the shopper: send `Authorization: Shopper <token>` "
                "(from POST /api/v1/shoppers/).")

    def has_permission(self, request, view) -> bool:
        return getattr(request.auth, "public_id", None) is not None
