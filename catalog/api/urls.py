from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("products/", views.ProductListApi.as_view(), name="product-list"),
    path("products/<int:pk>/", views.ProductDetailApi.as_view(), name="product-detail"),
    path("categories/", views.CategoryTreeApi.as_view(), name="category-list"),
    path("regions/", views.RegionTreeApi.as_view(), name="region-list"),
]
