from django.urls import path

from . import views

app_name = "reviews-api"

urlpatterns = [
    path("products/<int:pk>/reviews/", views.ProductReviewsApi.as_view(),
         name="product-reviews"),
    path("reviews/<int:review_id>/reply/", views.ReviewReplyApi.as_view(), name="review-reply"),
]
