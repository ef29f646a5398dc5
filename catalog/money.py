"""Money in integer minor units (paise, fils, cents) with an ISO 4217 code.

The one place that knows how many minor units a currency has, how to convert
to and from Decimal, and how a shopper reads an amount (`format_money`): the
storefront's pages, the orders app's messages and admin and the analytics
exports all format money through here.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import get_language

# Minor units per major unit. All currencies the shop serves today use 2.
CURRENCY_EXPONENT = {"INR": 2, "AED": 2, "USD": 2, "EUR": 2, "NPR": 2, "BDT": 2}


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    return Decimal(amount_minor).scaleb(-exponent)


def discount_percent(price_minor: int, compare_at_minor: int | None) -> int:
    """Return the whole-percent discount against the compare-at price (0 if none)."""
    if not compare_at_minor or compare_at_minor <= price_minor:
        return 0
    return (compare_at_minor - price_minor) * 100 // compare_at_minor


def decimal_to_minor(amount: Decimal, currency: str) -> int:
    """Return `amount` in minor units; raise ValueError if it has more precision than allowed."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than {exponent} decimal places")
    return int(scaled)


# Symbols as shoppers know them; a code stands in where the symbol is ambiguous
# or unknown to most readers (AED is written "AED" in English, "د.إ." in Arabic).
_SYMBOLS = {
    "INR": {"default": "₹"},
    "AED": {"default": "AED\u00a0", "ar": "د.إ.\u200f"},
    "USD": {"default": "$", "ar": "US$"},
    "EUR": {"default": "€"},
    "NPR": {"default": "Rs\u00a0", "ar": "ر.ن."},
    "BDT": {"default": "৳"},
}
# South Asian currencies group by lakh and crore: 1,29,999 rather than 129,999.
_INDIAN_GROUPING = {"INR", "NPR", "BDT"}


def _group(digits: str, indian: bool) -> str:
    if len(digits) <= 3:
        return digits
    head, tail = digits[:-3], digits[-3:]
    size = 2 if indian else 3
    groups = []
    while head:
        groups.insert(0, head[-size:])
        head = head[:-size]
    return ",".join([*groups, tail])


def format_money(amount_minor: int, currency: str, language: str | None = None) -> str:
    """Return `amount_minor` as shoppers read it: ₹1,299 / ₹1,29,999.50 / AED 1,299.

    Whole amounts drop the decimals (a budget shopper scans "₹499", not
    "₹499.00"). Latin digits in every language, with the separators and symbol
    position of the language (Arabic writes the symbol after the number).
    """
    language = (language or get_language() or "en").split("-")[0]
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(int(amount_minor)), 10**exponent)
    number = _group(str(major), currency in _INDIAN_GROUPING)
    if minor:
        number += "." + str(minor).zfill(exponent)
    symbols = _SYMBOLS.get(currency, {"default": currency + "\u00a0"})
    symbol = symbols.get(language, symbols["default"]).strip("\u00a0")
    if language == "ar":
        # CLDR ar: "‏#,##0.00 ¤"; the marks keep the minus and symbol in place in RTL text.
        return f"\u200f{sign}{number}\u00a0{symbol}"
    separator = "\u00a0" if symbols["default"].endswith("\u00a0") else ""
    return f"{sign}{symbol}{separator}{number}"


class Priced:
    """Price, discount and stock as shoppers see them, from the integer fields.

    Shared by the Product model and the storefront's card row, which carry
    the same `price_minor`, `compare_at_minor`, `currency` and `stock`.
    """

    __slots__ = ()

    @property
    def price(self) -> Decimal:
        return minor_to_decimal(self.price_minor, self.currency)

    @property
    def compare_at_price(self) -> Decimal | None:
        if self.compare_at_minor is None:
            return None
        return minor_to_decimal(self.compare_at_minor, self.currency)

    @property
    def discount_percent(self) -> int:
        """Return the whole-percent discount against the compare-at price (0 if none)."""
        return discount_percent(self.price_minor, self.compare_at_minor)

    @property
    def in_stock(self) -> bool:
        return self.stock > 0
