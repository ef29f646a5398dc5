"""Everything under /api/v1/. Each app owns its API module; this file mounts them."""

import os

from django.http import HttpResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.errors import api_not_found


def bench_hello(request):
    """The bare Django view the benchmarks compare the API against (DESIGN.md budgets)."""
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("catalog.api.urls")),
    path("", include("storefront.api.urls")),
    path("", include("personalization.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("reviews.api.urls")),
    path("", include("notifications.api.urls")),
]

# Only for `make bench` (bench/steps/50-api): never mounted unless asked for.
if os.environ.get("SHOP_BENCH_HELLO") == "1":
    urlpatterns.append(path("bench/hello/", bench_hello))

urlpatterns += [
    # Keep last (add app includes above): any other address under /api/v1/ answers
    # in the API's error shape instead of an HTML 404 page.
    re_path(r"^[\s\S]*$", api_not_found),  # [\s\S]: also paths holding a newline
]
