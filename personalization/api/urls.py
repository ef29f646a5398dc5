from django.urls import path

from . import views

app_name = "personalization-api"

urlpatterns = [
    path("shoppers/", views.ShopperCreateApi.as_view(), name="shopper-create"),
    path("shoppers/me/", views.ShopperMeApi.as_view(), name="shopper-me"),
    path("shoppers/me/export/", views.ShopperExportApi.as_view(), name="shopper-export"),
    path("events/", views.EventBatchApi.as_view(), name="events"),
]
