"""The inbox pages (mounted before the storefront in shop/urls.py)."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.inbox, name="inbox"),
    path("notifications/settings/", views.preferences, name="preferences"),
    path("notifications/read/", views.notifications_read_all, name="read-all"),
    path("notifications/stop/", views.kind_stop, name="stop"),
    path("notifications/stop/<str:token>/", views.kind_stop_signed, name="stop-signed"),
    path("notifications/<int:notification_id>/go/", views.notification_go, name="go"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="read"),
]
