"""Notifications under /api/v1/ (included from shop/api_urls.py)."""

from django.urls import path

from . import views

app_name = "notifications-api"

urlpatterns = [
    path("notifications/", views.NotificationListApi.as_view(), name="notification-list"),
    path("notifications/read/", views.NotificationReadAllApi.as_view(), name="read-all"),
    path("notifications/preferences/", views.PreferenceApi.as_view(), name="preferences"),
    path("notifications/push-subscriptions/", views.PushSubscriptionApi.as_view(),
         name="push-subscriptions"),
    path("notifications/push-key/", views.PushKeyApi.as_view(), name="push-key"),
    # str, not int: a malformed id reaches the view and gets this API's 404.
    path("notifications/<str:notification_id>/read/", views.NotificationReadApi.as_view(),
         name="read"),
]
