from django.urls import path

from . import views

app_name = "catalog-api"

urlpatterns = [
    path("categories/", views.CategoryTreeApi.as_view(), name="category-list"),
    path("regions/", views.RegionTreeApi.as_view(), name="region-list"),
]
