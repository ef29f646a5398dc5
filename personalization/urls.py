from django.urls import path

from . import views

app_name = "personalization"

urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/export/", views.privacy_export, name="privacy-export"),
    path("privacy/erase/", views.privacy_erase, name="privacy-erase"),
]
