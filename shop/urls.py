"""Root URLs. Each app owns its own URL module; this file only mounts them."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from core import media, ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api_urls")),
    # Before the storefront: /cart/, /checkout/ and /orders/<id>/ are the orders app's.
    path("", include("orders.urls")),
    path("", include("notifications.urls")),
    path("", include("sellers.urls")),
    path("", include("personalization.urls")),
    path("", include("storefront.urls")),
]

if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    # Local media (the generated, content-hashed image variants). With object
    # storage the bucket or its CDN serves them instead.
    urlpatterns += [
        re_path(r"^media/(?P<path>.+)$", media.serve_media, name="media"),
    ]

# Error pages that carry the CSP nonce and leak nothing (core/errors.py).
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
