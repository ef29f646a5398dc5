"""Product, category, onboarding, hide, language and data-saver pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from catalog.models import Product
from personalization.models import Event, ShopperProfile
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    RegionFactory,
    make_products,
)
from tests.storefront.conftest import card_ids

pytestmark = pytest.mark.django_db


def shopper_of(client) -> ShopperProfile:
    """Return the profile behind the client's cookie (the one the pages just used)."""
    return ShopperProfile.objects.order_by("-id").first()


# --- Product page ------------------------------------------------------------------


def test_product_page_shows_gallery_price_seller_stock_and_add_to_cart(client,
                                                                       products_with_photos):
    product = products_with_photos(1)[0]
    html = client.get(f"/p/{product.pk}/").content.decode()
    assert f"<h1>{product.title}</h1>" in html
    assert '<div class="gal">' in html and 'fetchpriority="high"' in html
    assert "₹499" in html and "Sold by " + product.seller.display_name in html
    assert "In stock" in html
    form = re.search(r'<form method="post" action="/cart/add/" id="add">(.*?)</form>',
                     html).group(1)
    assert 'name="csrfmiddlewaretoken"' in form
    assert f'name="product" value="{product.pk}"' in form and 'name="quantity" value="1"' in form


def _gallery_photos(html: str) -> list[tuple[str, str]]:
    """Return (slide id, its <img> tag) in page order."""
    return re.findall(r'<div class="sl[^"]*" id="(ph\d+)"[^>]*>.*?(<img [^>]*>)', html)


def test_product_gallery_shows_one_photo_and_loads_only_the_first_eagerly(client, upload):
    # Given a listing with three photos
    product = ProductFactory()
    for seed in range(3):
        ProductImageFactory(product=product, upload=upload(seed), alt_text=f"photo {seed + 1}")

    html = client.get(f"/p/{product.pk}/").content.decode()

    # Then photo 1 is written last (CSS hides it when another follows it as the
    # target) and is the only one fetched at once; the others wait to be shown
    photos = _gallery_photos(html)
    assert [slide for slide, _img in photos] == ["ph2", "ph3", "ph1"]
    tags = dict(photos)
    assert 'fetchpriority="high"' in tags["ph1"] and 'loading="lazy"' not in tags["ph1"]
    assert all('loading="lazy"' in tags[s] and "fetchpriority" not in tags[s]
               for s in ("ph2", "ph3"))
    assert '<div class="sl s1" id="ph1"' in html
    # A numbered link to each photo, and a tap on a photo shows the next one.
    numbers = re.search(r'<ol class="gn"[^>]*>(.*?)</ol>', html).group(1)
    assert re.findall(r'href="#(ph\d)" aria-label="Photo (\d) of 3">(\d)<', numbers) == [
        ("ph1", "1", "1"), ("ph2", "2", "2"), ("ph3", "3", "3")]
    assert re.findall(r'id="(ph\d)"[^>]*><a class="nx" href="#(ph\d)"', html) == [
        ("ph2", "ph3"), ("ph3", "ph1"), ("ph1", "ph2")]


def test_product_photo_sizes_name_the_width_it_is_drawn_at(client, upload):
    # Given a square photo in a box 40vh tall: it fills the width only on a
    # screen narrower than 0.4 of its height (it never does on a phone held upright)
    product = ProductFactory()
    ProductImageFactory(product=product, upload=upload(0))
    image = product.images.get()
    html = client.get(f"/p/{product.pk}/").content.decode()
    gallery = html.split('class="gal"', 1)[1].split('class="pr"', 1)[0]
    sizes = set(re.findall(r'sizes="([^"]+)"', gallery))
    ratio = f"{40 * image.width}/{100 * image.height}"
    assert sizes == {f"(max-aspect-ratio: {ratio}) 100vw, 40vh"}


def test_product_with_one_photo_has_no_numbers_and_none_has_a_placeholder(client, upload):
    single = ProductFactory()
    ProductImageFactory(product=single, upload=upload(0))
    html = client.get(f"/p/{single.pk}/").content.decode()
    assert 'class="gn"' not in html and 'class="nx"' not in html
    assert 'fetchpriority="high"' in html
    bare = client.get(f"/p/{ProductFactory().pk}/").content.decode()
    assert '<div class="sl s1 ph">' in bare and "<img" not in bare.split('class="gal"')[1][:300]


def test_a_long_title_is_written_out_in_full_below_the_clamped_heading(client):
    title = "Women's pure cotton Chikankari hand-embroidered straight kurta with palazzo pants"
    long_title = title + " and dupatta, festive wear"
    short = client.get(f"/p/{ProductFactory(title=title[:60]).pk}/").content.decode()
    long = client.get(f"/p/{ProductFactory(title=long_title).pk}/").content.decode()
    assert f"<p><b>{title[:60]}</b></p>" not in short
    about = long.split("About this item", 1)[1]
    assert f"<p><b>{long_title}</b></p>" in about.replace("&#x27;", "'")


@pytest.mark.parametrize("photos", [1, 5])
def test_product_page_query_count_does_not_grow_with_photos(client, upload,
                                                            django_assert_max_num_queries,
                                                            photos):
    product = ProductFactory()
    for seed in range(photos):
        ProductImageFactory(product=product, upload=upload(seed % 2))
    client.get(f"/p/{product.pk}/")
    # profile, product+seller+category, its images, similar ids, similar cards
    with django_assert_max_num_queries(6):
        html = client.get(f"/p/{product.pk}/").content.decode()
    assert len(_gallery_photos(html)) == photos


def test_product_page_of_a_sold_out_item_has_no_add_to_cart(client):
    product = ProductFactory(stock=0)
    html = client.get(f"/p/{product.pk}/").content.decode()
    assert "Out of stock" in html and "/cart/add/" not in html


def test_product_page_lists_more_like_this_from_the_same_category(client):
    category = CategoryFactory()
    product, *similar = make_products(4, categories=[category])
    elsewhere = make_products(1)[0]
    html = client.get(f"/p/{product.pk}/").content.decode()
    more = html.split('id="more-like"', 1)[1]
    assert set(card_ids(more)) == {p.pk for p in similar}
    assert elsewhere.pk not in card_ids(more) and product.pk not in card_ids(more)


def test_whatsapp_share_carries_a_referral_code_and_nothing_personal(client):
    product = ProductFactory()
    html = client.get(f"/p/{product.pk}/").content.decode()
    link = re.search(r'id="wa" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert link.startswith("https://wa.me/?text=")
    text = parse_qs(urlsplit(link).query)["text"][0]
    shared = urlsplit(text.split(" ")[-1])
    code = parse_qs(shared.query)["ref"][0]
    assert shared.path == f"/p/{product.pk}/" and re.fullmatch(r"[a-z2-7]{8,16}", code)
    profile = shopper_of(client)
    assert str(profile.public_id) not in unquote(link) and str(profile.pk) not in code
    # The same shopper always shares the same code.
    again = client.get(f"/p/{product.pk}/").content.decode()
    assert f"ref={code}" in unquote(again)


def test_product_page_of_a_draft_is_404(client):
    product = ProductFactory(status=Product.Status.DRAFT)
    assert client.get(f"/p/{product.pk}/").status_code == 404


def test_product_page_query_count_is_flat(client, django_assert_max_num_queries):
    category = CategoryFactory()
    product = make_products(12, categories=[category])[0]
    client.get(f"/p/{product.pk}/")
    # profile, product+seller+category, its images, similar ids, similar cards
    with django_assert_max_num_queries(6):
        assert client.get(f"/p/{product.pk}/").status_code == 200


# --- Category page -----------------------------------------------------------------------


def test_category_page_lists_its_items_and_its_subcategories_items(client):
    top = CategoryFactory(slug="clothes")
    sub = CategoryFactory(slug="kurtas", parent=top)
    mine = make_products(2, categories=[top]) + make_products(2, categories=[sub])
    other = make_products(2)
    html = client.get("/c/clothes/").content.decode()
    assert set(card_ids(html)) == {p.pk for p in mine}
    assert not set(card_ids(html)) & {p.pk for p in other}


def test_category_pages_by_cursor_without_repeats(client):
    category = CategoryFactory(slug="shoes")
    make_products(25, categories=[category])
    first = client.get("/c/shoes/").content.decode()
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).content.decode()
    ids = card_ids(first) + card_ids(second)
    assert len(ids) == len(set(ids)) == 25


def test_category_with_a_forged_cursor_is_a_400(client):
    CategoryFactory(slug="bags")
    response = client.get("/c/bags/", {"cursor": "not-a-signed-cursor"})
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_unknown_category_is_404(client):
    assert client.get("/c/no-such-thing/").status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_category_query_count_is_flat(client, django_assert_max_num_queries, n):
    category = CategoryFactory(slug="flat")
    make_products(n, categories=[category])
    client.get("/c/flat/")
    # category, profile, one page of ids, cards (with first photos)
    with django_assert_max_num_queries(5):
        assert len(card_ids(client.get("/c/flat/").content.decode())) == n


# --- Onboarding ---------------------------------------------------------------------------


def test_welcome_writes_the_profile_through_the_service(client):
    RegionFactory(code="IN", name="India")
    client.get("/")
    response = client.post("/welcome/", {"region": "IN", "age_band": "25-34", "gender": "f",
                                         "language": "hi"})
    assert response.status_code == 302 and response["Location"] == "/?saved=1"
    profile = shopper_of(client)
    assert (profile.region.code, profile.age_band, profile.gender, profile.language) == (
        "IN", "25-34", "f", "hi")
    assert response.cookies["welcomed"].value == "1"
    assert response.cookies["django_language"].value == "hi"


def test_after_saving_the_feed_names_what_was_saved(client):
    # given a shopper who answers the onboarding
    RegionFactory(code="IN-MH-PUN", name="Pune")
    client.get("/")
    response = client.post("/welcome/", {"region": "IN-MH-PUN", "age_band": "25-34",
                                         "language": "hi"}, follow=True)
    # then the feed's first page says what changed, in the language just chosen
    html = response.content.decode()
    note = re.search(r'<p class="note" role="status" id="saved">([^<]*)</p>', html).group(1)
    assert "Pune" in note and "25–34" in note and "हिंदी" in note  # Django's name_local
    # and the plain feed does not
    assert 'id="saved"' not in client.get("/").content.decode()


def test_saving_nothing_says_so(client):
    client.get("/")
    response = client.post("/welcome/", {"region": "", "age_band": "", "gender": ""},
                           follow=True)
    assert "You left every answer empty" in response.content.decode()


def test_the_welcome_copy_counts_the_questions_it_asks(client):
    RegionFactory(code="IN", name="India")
    html = client.get("/welcome/").content.decode()
    # Four questions: region, who for, age, language (the form's visible fields).
    questions = [name for name in ("region", "gender", "age_band", "language")
                 if f'name="{name}"' in html]
    assert len(questions) == 4
    assert "Four quick questions" in html and "Two quick questions" not in html


def test_welcome_with_an_unknown_region_is_a_form_error_and_changes_nothing(client):
    client.get("/")
    response = client.post("/welcome/", {"region": "XX", "gender": "m"})
    assert response.status_code == 400
    assert 'class="err"' in response.content.decode()
    profile = shopper_of(client)
    assert profile.region is None and profile.gender == ""


def test_skipping_the_welcome_is_one_tap_and_writes_nothing(client):
    client.get("/")
    response = client.post("/welcome/", {"skip": "1", "gender": "f"})
    assert response.status_code == 302 and response.cookies["welcomed"].value == "1"
    assert shopper_of(client).gender == ""


def test_welcome_page_offers_regions_and_optional_answers(client):
    RegionFactory(code="AE", name="United Arab Emirates", currency="AED")
    html = client.get("/welcome/").content.decode()
    assert "Where do you shop from?" in html and "Who are you shopping for?" in html
    assert 'value="AE"' in html and 'name="skip"' in html


# --- Not interested -------------------------------------------------------------------------


def test_not_interested_records_a_hide_event_and_goes_back(client):
    product = ProductFactory()
    client.get("/")
    response = client.post("/hide/", {"product": product.pk, "next": "/?cursor=abc"})
    assert response.status_code == 302 and response["Location"] == "/?cursor=abc"
    assert Event.objects.filter(type="hide", product=product, shopper=shopper_of(client)).exists()


def test_not_interested_never_redirects_to_another_site(client):
    product = ProductFactory()
    response = client.post("/hide/", {"product": product.pk, "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_not_interested_in_an_unknown_item_is_a_400_and_records_nothing(client):
    response = client.post("/hide/", {"product": 999999})
    assert response.status_code == 400
    assert not Event.objects.filter(type="hide").exists()


def test_hidden_item_leaves_the_next_feed(client):
    hidden, kept = make_products(2)
    client.get("/")
    client.post("/hide/", {"product": hidden.pk})
    ids = card_ids(client.get("/").content.decode())
    assert kept.pk in ids and hidden.pk not in ids


def test_not_interested_needs_post(client):
    assert client.get("/hide/").status_code == 405


# --- Language and data saver ----------------------------------------------------------------


def test_switching_to_arabic_stores_it_and_renders_right_to_left(client):
    client.get("/")
    response = client.post("/language/", {"language": "ar", "next": "/"})
    assert response.status_code == 302
    assert shopper_of(client).language == "ar"
    html = client.get("/").content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_profile_language_wins_over_accept_language(client):
    client.get("/")
    profile = shopper_of(client)
    profile.language = "hi"
    profile.save(update_fields=["language"])
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="hi" dir="ltr">' in html


def test_accept_language_is_used_for_a_first_visit(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ar,en;q=0.5").content.decode()
    assert 'dir="rtl"' in html


def test_unknown_language_is_a_400(client):
    assert client.post("/language/", {"language": "xx"}).status_code == 400


def test_save_data_header_means_fewer_cards_and_smaller_pictures(client, products_with_photos):
    products_with_photos(12, distinct_photos=1)
    response = client.get("/", HTTP_SAVE_DATA="on")
    html = response.content.decode()
    assert len(card_ids(html)) == 10
    widths = {int(w) for w in re.findall(r" (\d+)w[,\"]", html)}
    assert widths == {160}
    assert "Save-Data" in response["Vary"]


def test_data_saver_switch_is_kept_in_a_cookie(client):
    make_products(12)
    response = client.post("/data-saver/", {"on": "1", "next": "/"})
    assert response.cookies["save_data"].value == "1"
    assert len(card_ids(client.get("/").content.decode())) == 10
    client.post("/data-saver/", {"on": "", "next": "/"})
    assert len(card_ids(client.get("/").content.decode())) == 12
