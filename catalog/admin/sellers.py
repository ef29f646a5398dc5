"""Seller profiles in the admin: staff create logins, a seller edits their own profile."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from catalog.models import Seller
from catalog.services import actor_sees_all, seller_create, seller_update, seller_validate_new
from catalog.services.sellers import SELLER_EDITABLE_PROFILE_FIELDS, STAFF_EDITABLE_PROFILE_FIELDS

from .base import SellerScopedAdmin, adopt_saved


class SellerCreationForm(forms.ModelForm):
    """Staff create the login and the profile in one go."""

    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    password1 = forms.CharField(
        label=_("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Seller
        fields = ("display_name", "region", "phone", "verified")

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
            return cleaned
        if self.errors:
            return cleaned
        try:
            seller_validate_new(
                username=cleaned["username"], email=cleaned["email"], password=p1,
                display_name=cleaned["display_name"], region=cleaned.get("region"),
                phone=cleaned.get("phone", ""),
            )
        except ValidationError as exc:
            rename = {"password": "password2"}
            for field, field_errors in exc.message_dict.items():
                target = rename.get(field, field)
                self.add_error(target if target in self.fields else None, field_errors)
        return cleaned


@admin.register(Seller)
class SellerAdmin(SellerScopedAdmin):
    seller_lookup = "pk"
    add_form = SellerCreationForm
    list_display = ("display_name", "user", "region", "phone", "verified")
    list_filter = ("verified",)
    list_select_related = ("user", "region")
    search_fields = ("display_name", "slug", "user__username")
    autocomplete_fields = ("region",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("user", "region")

    def get_list_display(self, request):
        if actor_sees_all(request.user):
            return self.list_display
        return ("display_name", "phone", "verified")

    def get_list_filter(self, request):
        return self.list_filter if actor_sees_all(request.user) else ()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return actor_sees_all(request.user) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return actor_sees_all(request.user) and super().has_delete_permission(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (_("Login"), {"fields": ["username", "email", "password1", "password2"]}),
                (_("Profile"), {"fields": ["display_name", "region", "phone", "verified"]}),
            ]
        if actor_sees_all(request.user):
            return [(None, {"fields": ["user", *STAFF_EDITABLE_PROFILE_FIELDS, "created_at"]})]
        return [(None, {"fields": [*SELLER_EDITABLE_PROFILE_FIELDS, "slug", "region",
                                   "verified"]})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if actor_sees_all(request.user):
            return ("user", "created_at")
        return ("slug", "region", "verified")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            editable = (
                STAFF_EDITABLE_PROFILE_FIELDS
                if actor_sees_all(request.user)
                else SELLER_EDITABLE_PROFILE_FIELDS
            )
            saved = seller_update(
                seller=obj, actor=request.user,
                **{f: data[f] for f in form.changed_data if f in editable},
            )
        else:
            saved = seller_create(
                username=data["username"], email=data["email"], password=data["password1"],
                display_name=data["display_name"], region=data.get("region"),
                phone=data.get("phone", ""), verified=data.get("verified", False),
            )
        adopt_saved(obj, saved)
