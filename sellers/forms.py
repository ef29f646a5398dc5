"""Forms of the sellers app's admin pages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Region
from catalog.money import decimal_to_minor
from orders.forms import RegionChoiceField, served_regions

from . import services, signup
from .models import Remittance

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


class RemittanceForm(forms.ModelForm):
    """Staff's entry of one payment; the amount is typed as a decimal, e.g. 1250.50."""

    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=14, decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("At most what is owed in that currency (see the seller's cash statement)."),
    )

    class Meta:
        model = Remittance
        fields = ("seller", "currency", "paid_on", "reference", "note")
        widgets = {"paid_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Absent on the read-only page of a recorded remittance.
        if "currency" in self.fields:
            self.fields["currency"].initial = "INR"
        if "paid_on" in self.fields:
            self.fields["paid_on"].initial = timezone.localdate

    def clean(self):
        cleaned = super().clean()
        seller = cleaned.get("seller")
        amount = cleaned.get("amount")
        currency = (cleaned.get("currency") or "").strip().upper()
        amount_minor = None
        if amount is not None and currency:
            try:
                amount_minor = decimal_to_minor(amount, currency)
            except ValueError:
                self.add_error("amount", _("Too many decimal places for this currency."))
                return cleaned
        if seller is None or self.errors:
            return cleaned
        try:
            currency, reference = services.remittance_check(
                seller=seller, amount_minor=amount_minor, currency=currency,
                paid_on=cleaned.get("paid_on"), reference=cleaned.get("reference", ""),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error("amount" if field == "amount_minor" else field, messages)
            return cleaned
        cleaned.update(currency=currency, reference=reference, amount_minor=amount_minor)
        return cleaned

    def _post_clean(self):
        # The service validates and saves (RemittanceAdmin.save_model); the
        # model's own full_clean would demand recorded_by, which the form
        # does not carry.
        pass


class StatementQuery(forms.Form):
    """The statement's query string: bad values are a 400, never silently dropped."""

    seller = forms.IntegerField(required=False, min_value=1)
    month = forms.CharField(required=False, max_length=7)

    def clean_month(self) -> date:
        value = self.cleaned_data.get("month") or ""
        today = timezone.localdate()
        if not value:
            return today.replace(day=1)
        match = _MONTH_RE.fullmatch(value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 2000:
            raise ValidationError(_("Use the form YYYY-MM, e.g. 2026-03."))
        month = date(int(match[1]), int(match[2]), 1)
        if month > today:
            raise ValidationError(_("That month has not started yet."))
        return month


class SellerSignupForm(forms.Form):
    """Phone first: the number is the login; e-mail is optional."""

    display_name = forms.CharField(label=_("Shop name"), max_length=100,
                                   widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    phone = forms.CharField(
        label=_("Mobile number"), max_length=24,
        help_text=_("You sign in with this number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    region = RegionChoiceField(label=_("Where you sell from"), queryset=Region.objects.none(),
                               empty_label=_("Choose…"))
    email = forms.EmailField(label=_("E-mail (optional)"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label=_("Password"), strip=False,
        help_text=_("At least 8 characters; not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    terms = forms.BooleanField(label=_("I accept the seller terms"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = served_regions()

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.application = signup.seller_application_submit(
                display_name=cleaned["display_name"], phone=cleaned["phone"],
                region=cleaned["region"], email=cleaned.get("email", ""),
                password=cleaned["password"], terms_accepted=cleaned.get("terms", False),
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


class ApplicantLoginForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"), max_length=24,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password"}))


class RefuseForm(forms.Form):
    """The reason staff give when refusing applications (the admin action's second step)."""

    reason = forms.CharField(label=_("Reason, shown to the applicant"), min_length=5,
                             max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
