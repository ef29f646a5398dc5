"""Reviews in the admin: sellers read and answer reviews of their own products only;
staff read all and hide (with a reason) or show them again.

Every write goes through reviews.services, which check the actor again, so a
forged POST reaches nothing the form did not offer. Nothing is added or
deleted here: a review is the shopper's, and only their erasure deletes it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from catalog.admin import SellerScopedAdmin
from catalog.services import actor_sees_all, actor_seller
from catalog.variants import variant_nearest

from . import services
from .models import HIDDEN_REASON_MAX_LENGTH, REPLY_MAX_LENGTH, Review

_INFO = ("product", "rating", "text", "photo_previews", "created_at")


class ReviewAdminForm(forms.ModelForm):
    """The two things that change on a review: the seller's answer, staff's hiding."""

    reply = forms.CharField(
        label=_("Your answer"), required=False, max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown under the review on the product page. You can answer once."),
    )
    hide = forms.BooleanField(label=_("Hidden from shoppers"), required=False)
    reason = forms.CharField(label=_("Reason for hiding"), required=False,
                             max_length=HIDDEN_REASON_MAX_LENGTH)

    class Meta:
        model = Review
        fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "hide" in self.fields:
            self.fields["hide"].initial = self.instance.hidden
            self.fields["reason"].initial = self.instance.hidden_reason

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("hide") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why the review is hidden."))
        return cleaned


@admin.register(Review)
class ReviewAdmin(SellerScopedAdmin):
    form = ReviewAdminForm
    seller_lookup = "product__seller"
    list_display = ("product", "rating", "short_text", "created_at", "hidden", "answered")
    list_filter = ("hidden", "rating")
    list_select_related = ("product",)
    search_fields = ("product__title", "text")
    ordering = ("-id",)
    readonly_fields = (*_INFO, "seller_reply", "replied_at", "hidden", "hidden_reason",
                       "hidden_at")

    def get_fields(self, request: HttpRequest, obj: Review | None = None):
        if actor_sees_all(request.user):
            return (*_INFO, "seller_reply", "replied_at", "hide", "reason", "hidden_at")
        if obj is not None and obj.replied_at is None:
            return (*_INFO, "hidden", "hidden_reason", "reply")
        return (*_INFO, "hidden", "hidden_reason", "seller_reply", "replied_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Review | None = None):
        editable = {"hide", "reason", "reply"}
        return [name for name in self.get_fields(request, obj) if name not in editable]

    # Sellers reach this admin by being sellers (the Sellers group holds only
    # catalog permissions); the queryset keeps them to their own products.
    def _may(self, request: HttpRequest, perm: str) -> bool:
        if actor_seller(request.user) is not None:
            return True
        return actor_sees_all(request.user) and request.user.has_perm(f"reviews.{perm}_review")

    def has_module_permission(self, request):
        return self._may(request, "view")

    def has_view_permission(self, request, obj=None):
        return self._may(request, "view")

    def has_change_permission(self, request, obj=None):
        return self._may(request, "change")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if actor_sees_all(request.user):
            if data.get("hide") and not obj.hidden:
                services.review_hide(review=obj, actor=request.user, reason=data["reason"])
            elif not data.get("hide") and obj.hidden:
                services.review_show(review=obj, actor=request.user)
        elif (data.get("reply") or "").strip():
            services.review_reply(review=obj, actor=request.user, text=data["reply"])
        obj.refresh_from_db()

    @admin.display(description=_("review"))
    def short_text(self, review: Review) -> str:
        return review.text[:80]

    @admin.display(description=_("answered"), boolean=True)
    def answered(self, review: Review) -> bool:
        return review.replied_at is not None

    @admin.display(description=_("photos"))
    def photo_previews(self, review: Review) -> str:
        thumbs = []
        for photo in review.photos.all():
            variant = variant_nearest(photo.variants, "jpeg", 160)
            if variant is not None:
                thumbs.append((default_storage.url(variant["name"]), variant["width"],
                               variant["height"]))
        return format_html_join(" ", '<img src="{}" width="{}" height="{}" alt="">', thumbs)
