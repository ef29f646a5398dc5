"""Search in the shopper's words and listings in their language, in Chromium at 360x640."""

from __future__ import annotations

import pytest

from catalog.demo import synonyms_ensure
from catalog.models import Product
from tests.browser.conftest import MOBILE, _settle
from tests.factories import CategoryFactory, ProductImageFactory, make_image_upload, make_products

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def sarees(transactional_db):
    """Three sarees titled in English (one also in Hindi and Arabic), and other listings."""
    synonyms_ensure()
    fashion = CategoryFactory(name="Sarees", slug="sarees", icon="🥻")
    home = CategoryFactory(name="Home", slug="home", icon="🏠")
    sarees = make_products(3, categories=[fashion], title="Banarasi silk saree")
    make_products(5, categories=[home], title="Steel tiffin box")
    Product.objects.filter(pk=sarees[0].pk).update(
        title="Banarasi silk saree, maroon", title_hi="बनारसी सिल्क साड़ी, मैरून",
        title_ar="ساري بنارسي حرير، عنابي",
        description_hi="बुने हुए बॉर्डर के साथ। कैश ऑन डिलीवरी उपलब्ध।")
    for index, product in enumerate(sarees):
        ProductImageFactory(product=product, alt_text="",
                            upload=make_image_upload(seed=index, width=480, height=480))
    return sarees


def search(page, base_url: str, words: str) -> list[int]:
    """Type `words` into the header's search box like a shopper; return the cards found."""
    page.goto(base_url + "/")
    page.fill("#q", words)
    with page.expect_navigation(url="**/search/?q=*"):
        page.press("#q", "Enter")
    return sorted(int(pk) for pk in page.eval_on_selector_all(
        "li.card[data-p]", "els => els.map(e => e.dataset.p)"))


@pytest.mark.parametrize(("locale", "words", "shot"), [
    ("en-IN", "saree", "search-en-saree.png"),
    ("hi-IN", "साड़ी", "search-hi-saree.png"),
    ("hi-IN", "saadi", "search-hinglish-saree.png"),
    ("ar-AE", "ساري", "search-ar-saree.png"),
])
def test_hindi_arabic_and_hinglish_searches_find_the_sarees(live_server, browser, sarees,
                                                            artifacts, locale, words, shot):
    context = browser.new_context(locale=locale, **MOBILE)
    try:
        page = context.new_page()
        found = search(page, live_server.url, words)
        page.screenshot(path=str(artifacts / shot))
        assert found == sorted(p.pk for p in sarees)
        # no "nothing matched" page with popular items instead
        assert page.locator("text=Nothing matched").count() == 0
    finally:
        # The page's last beacon may still be written by the live server:
        # let it land before the database is flushed for the next case.
        context.close()
        _settle()


def test_a_hindi_shopper_reads_the_hindi_title(live_server, browser, sarees, artifacts):
    context = browser.new_context(locale="hi-IN", **MOBILE)
    page = context.new_page()
    search(page, live_server.url, "साड़ी")
    card = page.locator(f'li.card[data-p="{sarees[0].pk}"] h2')
    assert card.inner_text() == "बनारसी सिल्क साड़ी, मैरून"
    # the page is in Hindi around it: the COD badge too
    assert page.locator("html").get_attribute("lang") == "hi"
    assert "कैश ऑन डिलीवरी" in page.locator(f'li.card[data-p="{sarees[0].pk}"]').inner_text()
    # a listing without a translation is shown as written
    plain = page.locator(f'li.card[data-p="{sarees[1].pk}"] h2')
    assert plain.inner_text() == "Banarasi silk saree"
    page.screenshot(path=str(artifacts / "search-hi-card-title.png"))
    with page.expect_navigation(url=f"**/p/{sarees[0].pk}/"):
        card.locator("a").click()
    assert page.locator("h1").inner_text() == "बनारसी सिल्क साड़ी, मैरून"
    assert "बुने हुए बॉर्डर" in page.locator("#product").inner_text()
    page.screenshot(path=str(artifacts / "product-hi-title.png"))
    context.close()
    _settle()
