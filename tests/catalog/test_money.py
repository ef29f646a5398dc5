"""Money and reason cues as shoppers read them."""

from __future__ import annotations

import pytest
from django.utils import translation

from catalog.money import format_money
from storefront.cues import reason_cue, reason_label


@pytest.mark.parametrize(
    ("minor", "currency", "language", "expected"),
    [
        (49900, "INR", "en", "₹499"),
        (129900, "INR", "en", "₹1,299"),
        (12999950, "INR", "en", "₹1,29,999.50"),
        (1000000000, "INR", "hi", "₹1,00,00,000"),
        (129900, "AED", "en", "AED\u00a01,299"),
        (12999900, "AED", "en", "AED\u00a0129,999"),
        (129905, "AED", "ar", "\u200f1,299.05\u00a0د.إ.\u200f"),
        (49900, "INR", "ar", "\u200f499\u00a0₹"),
        (5, "USD", "en", "$0.05"),
        (-49900, "INR", "en", "-₹499"),
    ],
)
def test_format_money(minor, currency, language, expected):
    assert format_money(minor, currency, language) == expected


def test_format_money_follows_the_active_language():
    with translation.override("ar"):
        assert format_money(129900, "AED").endswith("د.إ.\u200f")
    with translation.override("en"):
        assert format_money(129900, "AED") == "AED\u00a01,299"


def test_reason_cues_have_an_icon_and_a_short_label():
    with translation.override("en"):
        assert reason_label("popular_region", "Pune") == "Popular in Pune"
        assert reason_label("because_viewed", "Red saree") == "Because you viewed Red saree"
        html = reason_cue("trending")
        assert '<use href="#i-trending"/></svg>Trending</span>' in html
        assert reason_cue("unknown-code") == ""


def test_reason_arguments_are_escaped():
    with translation.override("en"):
        assert "<script>" not in reason_cue("because_viewed", "<script>x</script>")
