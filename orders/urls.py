"""Cart, checkout and order pages (mounted before the storefront in shop/urls.py)."""

from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart-add"),
    path("cart/lines/<int:line_id>/", views.cart_line_update, name="cart-line-update"),
    path("cart/lines/<int:line_id>/remove/", views.cart_line_remove, name="cart-line-remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<str:public_id>/", views.order_detail, name="order-detail"),
]
