"""The inbox page's forms: plain HTML, so they work with JavaScript off."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Kind


class KindStopForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices)
    # The message the stop was tapped on, so the opt-out counts against it.
    notification = forms.IntegerField(required=False, min_value=1)


class PreferenceForm(forms.Form):
    webpush = forms.BooleanField(label=_("Phone notifications"), required=False)
    sms = forms.BooleanField(label=_("SMS or WhatsApp"), required=False)
    kinds = forms.MultipleChoiceField(
        label=_("Messages I want"), choices=Kind.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Order updates always stay in your inbox."),
    )
