"""Storefront pages and the PWA files, mounted at the site root by shop/urls.py."""

from django.urls import path

from . import pwa, views

app_name = "storefront"

urlpatterns = [
    path("", views.feed, name="feed"),
    path("p/<int:pk>/", views.product_detail, name="product"),
    path("p/<int:pk>/review/", views.product_review, name="product-review"),
    path("p/<int:pk>/reviews/", views.product_reviews, name="product-reviews"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("welcome/", views.welcome, name="welcome"),
    path("hide/", views.hide, name="hide"),
    path("language/", views.language_set, name="language"),
    path("region/", views.region_choose, name="region"),
    path("data-saver/", views.data_saver_set, name="data-saver"),
    path("offline/", pwa.offline, name="offline"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    # At the root so the worker's scope is the whole site.
    path("sw.js", pwa.service_worker, name="service-worker"),
]
