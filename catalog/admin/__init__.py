"""The catalog admin, scoped per seller.

Sellers are staff users too, so every ModelAdmin here narrows its queryset to
the logged-in seller's rows (the change, delete and history views, the bulk
actions and the inlines all start from that queryset) and writes through the
services, which check ownership once more. Staff who are not sellers, and
superusers, see and manage everything. Who is which is decided in one place:
`catalog.services.actor_sees_all` / `actor_seller`.

Modules: `base` (scoping and the shared ModelAdmin bases), `bulk` (CSV/ZIP
uploads), `products`, `sellers`, `vocabularies` (regions, categories), `search`
(synonyms, searches without results). Importing them registers
their ModelAdmins with the admin site.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .base import SellerScopedAdmin, StaffManagedAdmin
from .bulk import BulkUploadAdmin
from .products import ProductAdmin, ProductAdminForm, ProductImageInline
from .search import SearchMissAdmin, SearchSynonymAdmin
from .sellers import SellerAdmin, SellerCreationForm
from .vocabularies import CategoryAdmin, RegionAdmin

# Sellers, not developers, read these: "Django administration" means nothing to them.
admin.site.site_header = _("Shop admin")
admin.site.site_title = _("Shop admin")
admin.site.index_title = _("Your shop")

__all__ = [
    "BulkUploadAdmin",
    "CategoryAdmin",
    "ProductAdmin",
    "ProductAdminForm",
    "ProductImageInline",
    "RegionAdmin",
    "SearchMissAdmin",
    "SearchSynonymAdmin",
    "SellerAdmin",
    "SellerCreationForm",
    "SellerScopedAdmin",
    "StaffManagedAdmin",
]
