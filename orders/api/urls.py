"""Cart, checkout and orders under /api/v1/ (included from shop/api_urls.py)."""

from django.urls import path

from . import views

app_name = "orders-api"

urlpatterns = [
    path("cart/", views.CartApi.as_view(), name="cart"),
    path("cart/lines/", views.CartLineCreateApi.as_view(), name="cart-lines"),
    # str, not int: a malformed id must reach the view and get this API's 404,
    # not fall through to another route.
    path("cart/lines/<str:line_id>/", views.CartLineApi.as_view(), name="cart-line"),
    path("checkout/", views.CheckoutApi.as_view(), name="checkout"),
    path("orders/", views.OrderListApi.as_view(), name="order-list"),
    path("orders/<str:public_id>/", views.OrderDetailApi.as_view(), name="order-detail"),
]
