"""Input of the storefront pages: query strings and the small POST forms."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from catalog.models import Region

# Signed cursors are a few hundred characters; anything far longer is not ours.
MAX_CURSOR_LENGTH = 1000
# Past this page a shopper is better served by a narrower query, and a deep
# OFFSET is the one thing that makes search slow.
MAX_SEARCH_PAGE = 50


class FeedQueryForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=MAX_CURSOR_LENGTH)
    fragment = forms.BooleanField(required=False)


class SearchQueryForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_SEARCH_PAGE)
    fragment = forms.BooleanField(required=False)

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


def safe_next(request, value: str | None, default: str = "/") -> str:
    """Return `value` if it is a local URL of this site, else `default` (no open redirect)."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


class NextField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=2000, **kwargs)


class HideForm(forms.Form):
    product = forms.IntegerField(min_value=1)
    next = NextField()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = NextField()


class DataSaverForm(forms.Form):
    on = forms.BooleanField(required=False)
    next = NextField()


class WelcomeForm(forms.Form):
    """The one-screen onboarding: every field optional, skippable in one tap."""

    region = forms.ModelChoiceField(
        label=_("Where do you shop from?"), queryset=Region.objects.none(), required=False,
        to_field_name="code", empty_label=_("Choose your area"),
    )
    age_band = forms.ChoiceField(label=_("Age"), required=False)
    gender = forms.ChoiceField(label=_("Shopping for"), required=False,
                               widget=forms.RadioSelect)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)
    skip = forms.BooleanField(required=False)

    def __init__(self, *args, regions, age_bands, genders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions
        self.fields["age_band"].choices = [("", _("Prefer not to say")), *age_bands]
        self.fields["gender"].choices = [("", _("Anyone")), *genders]
