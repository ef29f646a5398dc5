"""A verified buyer reviews with a photo from a 360x640 phone with JavaScript off;
the review shows on the product page and the rating on the feed card."""

from __future__ import annotations

import pytest

from catalog.services import seller_create
from personalization.services import shopper_create
from tests.browser.conftest import MOBILE
from tests.factories import (
    ProductFactory,
    ProductImageFactory,
    make_image_bytes,
    make_image_upload,
)
from tests.orders.conftest import cookie_for
from tests.reviews.conftest import buy

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def bought(transactional_db, regions):
    seller = seller_create(username="lamps", email="lamps@example.com",
                           password="a-Long-enough-pass-9", display_name="Lamp House")
    product = ProductFactory(seller=seller, stock=20, title="Brass table lamp")
    ProductImageFactory(product=product, upload=make_image_upload(seed=4, width=480, height=480))
    shopper = shopper_create()
    buy(shopper, product, regions["IN-MH-PUN"])
    return product, shopper


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_verified_buyer_reviews_with_a_photo_with_javascript_off(
    live_server, browser, bought, artifacts, tmp_path
):
    product, shopper = bought
    photo = tmp_path / "my-lamp.jpg"
    photo.write_bytes(make_image_bytes(seed=21, width=640, height=480))
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    name, value = cookie_for(shopper)
    context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    page = context.new_page()
    page.goto(f"{live_server.url}/p/{product.pk}/")
    assert page.locator("#review-form").is_visible()
    assert _no_horizontal_scroll(page)
    page.locator("#review-form label", has_text="4 out of 5").click()
    page.fill("#id_text", "Warm light, heavy base. Arrived well packed.")
    page.set_input_files("#id_photos", str(photo))
    page.locator("#review-form").screenshot(path=str(artifacts / "review-form.png"))
    with page.expect_navigation(url="**/?reviewed=1*"):
        page.click("#review-form button[type=submit]")
    assert "Thank you! Your review is up." in page.text_content("#reviews")
    assert "Warm light, heavy base." in page.text_content("#reviews")
    shown = page.locator("#reviews .rph img")
    assert shown.count() == 1
    shown.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.querySelector('#reviews .rph img').naturalWidth") > 0
    assert "4.0/5 from 1 rating" in page.text_content("#product")
    assert _no_horizontal_scroll(page)
    page.locator("#reviews").screenshot(path=str(artifacts / "review-shown.png"))
    context.close()
    # and another shopper's feed card carries the rating (the buyer's own feed
    # leaves out what they bought)
    context = browser.new_context(java_script_enabled=False, **MOBILE)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    card = page.locator(f'li.card[data-p="{product.pk}"]')
    assert "4.0/5 (1)" in card.text_content()
    assert _no_horizontal_scroll(page)
    card.screenshot(path=str(artifacts / "review-card.png"))
    context.close()
