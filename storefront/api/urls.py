from django.urls import path

from . import views

app_name = "storefront-api"

urlpatterns = [
    path("products/", views.ProductListApi.as_view(), name="product-list"),
    path("products/<int:pk>/", views.ProductDetailApi.as_view(), name="product-detail"),
    path("feed/", views.FeedApi.as_view(), name="feed"),
]
