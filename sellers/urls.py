from django.urls import path

from . import views

app_name = "sellers"

urlpatterns = [
    path("sell/", views.signup_view, name="signup"),
    path("sell/thanks/", views.thanks_view, name="thanks"),
    path("sell/status/", views.status_view, name="status"),
    path("sell/logout/", views.logout_view, name="logout"),
]
