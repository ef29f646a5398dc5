"""Input of the storefront pages: query strings and the small POST forms."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from catalog.markets import market_get
from catalog.models import Region
from reviews.models import PHOTOS_MAX, RATING_MAX, RATING_MIN, TEXT_MAX_LENGTH

# Signed cursors are a few hundred characters; anything far longer is not ours.
MAX_CURSOR_LENGTH = 1000
# Past this page a shopper is better served by a narrower query, and a deep
# OFFSET is the one thing that makes search slow.
MAX_SEARCH_PAGE = 50


class FeedQueryForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=MAX_CURSOR_LENGTH)
    fragment = forms.BooleanField(required=False)
    # Set by the onboarding's redirect: the first page says what was saved.
    saved = forms.BooleanField(required=False)


class CategoryQueryForm(FeedQueryForm):
    """A category page: its cursor, and its sort as plain links send it.

    An unknown sort is a 400 naming the field, as an unknown filter value is
    in the API (django-filter): a mistyped link never shows a page in an
    order the shopper did not ask for. Empty means the default, as in the API.
    """

    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=[
        ("popular", _("Popular")),
        ("newest", _("Newest")),
        ("price", _("Price: low to high")),
        ("-price", _("Price: high to low")),
    ])


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


class PlaceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        # "Pune, India": a city alone can be ambiguous; the country's name
        # comes from the cached region index, not a query per option.
        country = market_get(obj.ancestor_codes()[0])
        if obj.parent_id is None or country is None:
            return obj.name
        return f"{obj.name}, {country.name}"


class RegionForm(forms.Form):
    """The region chooser behind "Delivering to: … · change" (a plain form, no JS)."""

    region = PlaceChoiceField(
        label=_("Where should we deliver?"), queryset=Region.objects.none(),
        to_field_name="code", widget=forms.RadioSelect, empty_label=None,
        error_messages={"required": _("Choose where we should deliver."),
                        "invalid_choice": _("Choose one of the places listed.")},
    )
    next = NextField()

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several files from one <input type=file multiple>; the pipeline checks each one."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={
            "accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"), coerce=int, widget=forms.RadioSelect,
        choices=[(n, "★" * n) for n in range(RATING_MAX, RATING_MIN - 1, -1)],
    )
    text = forms.CharField(
        label=_("Your review (optional)"), required=False, max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX_LENGTH}),
    )
    photos = MultiplePhotoField(label=_("Photos (up to 3)"), required=False)

    def clean_photos(self):
        photos = self.cleaned_data.get("photos") or []
        if len(photos) > PHOTOS_MAX:
            raise forms.ValidationError(_("Add at most %(n)d photos.") % {"n": PHOTOS_MAX})
        return photos


class ReviewsPageForm(forms.Form):
    cursor = forms.CharField(required=False, max_length=MAX_CURSOR_LENGTH)
