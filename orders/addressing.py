"""Phone and postal-code rules for the countries we deliver to. Pure: no ORM.

One table, so adding a country is one entry here and nothing else. Phones are
stored in E.164 (`+919876543210`): couriers dial them and SMS gateways want
them that way. Only mobile numbers are accepted: the courier calls or texts
the shopper on the way, and a landline cannot receive the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class CountryRules:
    dial_code: str  # without "+"
    mobile_pattern: str  # the national number, without trunk 0 or dial code
    mobile_example: str
    postal_pattern: str | None  # None: the country has no postal codes (UAE)
    postal_label: str
    postal_example: str = ""


COUNTRY_RULES: dict[str, CountryRules] = {
    # India: 10-digit mobiles start with 6-9; PIN codes are 6 digits, never
    # starting with 0.
    "IN": CountryRules("91", r"[6-9]\d{9}", "98765 43210", r"[1-9]\d{5}",
                       gettext_noop("PIN code"), "411001"),
    # UAE: mobiles are 05X XXX XXXX nationally; there are no postal codes.
    "AE": CountryRules("971", r"5\d{8}", "50 123 4567", None, ""),
    # Nepal: mobiles are 10 digits starting 97 or 98; postal codes 5 digits.
    "NP": CountryRules("977", r"9[78]\d{8}", "984 1234567", r"\d{5}",
                       gettext_noop("postal code"), "44600"),
    # Bangladesh: mobiles 01[3-9]X XXXX XXX nationally; postal codes 4 digits.
    "BD": CountryRules("880", r"1[3-9]\d{8}", "1712 345678", r"\d{4}",
                       gettext_noop("postal code"), "1205"),
}

_SEPARATORS = re.compile(r"[\s\-().]")


def country_rules(country_code: str) -> CountryRules:
    """Return the rules for `country_code`; raise ValidationError if we do not deliver there."""
    try:
        return COUNTRY_RULES[country_code]
    except KeyError:
        raise ValidationError(
            _("Sorry, we do not deliver to this country yet."), code="country_not_served"
        ) from None


def normalise_phone(raw: str, country_code: str) -> str:
    """Return `raw` as an E.164 mobile number of `country_code`; raise ValidationError if not one.

    Accepts what people type: spaces, dashes, brackets, a leading trunk 0, the
    dial code with "+" or "00", or without either.
    """
    rules = country_rules(country_code)
    digits = _SEPARATORS.sub("", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith(rules.dial_code):
            raise ValidationError(
                _("Enter a mobile number from this country (+%(code)s).")
                % {"code": rules.dial_code},
                code="phone_country",
            )
        national = digits[len(rules.dial_code):]
    elif digits.startswith("00" + rules.dial_code):
        national = digits[2 + len(rules.dial_code):]
    elif digits.startswith(rules.dial_code) and re.fullmatch(
        rules.mobile_pattern, digits[len(rules.dial_code):]
    ):
        national = digits[len(rules.dial_code):]
    else:
        national = digits[1:] if digits.startswith("0") else digits
    if not national.isdigit() or not re.fullmatch(rules.mobile_pattern, national):
        raise ValidationError(
            _("Enter a mobile number like +%(code)s %(example)s.")
            % {"code": rules.dial_code, "example": rules.mobile_example},
            code="phone_invalid",
        )
    return f"+{rules.dial_code}{national}"


def normalise_postal_code(raw: str, country_code: str) -> str:
    """Return the cleaned postal code ("" where the country has none); raise ValidationError."""
    rules = country_rules(country_code)
    value = _SEPARATORS.sub("", raw or "").upper()
    if rules.postal_pattern is None:
        # Nothing to ask for: a UAE address is found by area and landmark.
        return ""
    if not value:
        raise ValidationError(
            _("Enter your %(label)s.") % {"label": _(rules.postal_label)}, code="postal_required"
        )
    if not re.fullmatch(rules.postal_pattern, value):
        raise ValidationError(
            _("Enter a valid %(label)s, like %(example)s.")
            % {"label": _(rules.postal_label), "example": rules.postal_example},
            code="postal_invalid",
        )
    return value
