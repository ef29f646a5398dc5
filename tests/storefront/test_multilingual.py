"""Search in the shopper's words and listings in the shopper's language (issue 17).

Written for both backends: the same assertions hold on SQLite FTS5 and on
PostgreSQL full text (CI runs the suite there).
"""

from __future__ import annotations

import pytest
from django.conf import settings

from catalog.demo import synonyms_ensure
from catalog.models import Product, SearchMiss, SearchSynonym
from catalog.search import products_search, search_terms
from personalization.models import ShopperProfile
from tests.factories import ProductFactory
from tests.storefront.conftest import card_ids

pytestmark = pytest.mark.django_db


def ids_for(query: str) -> set[int]:
    return set(products_search(query=query, page=1, page_size=50).product_ids)


@pytest.fixture
def sarees():
    """Sarees titled in English (one also in Hindi and Arabic), and other listings."""
    synonyms_ensure()
    return [
        ProductFactory(title="Banarasi silk saree, maroon", description="Zari border."),
        ProductFactory(title="Chiffon party wear saree", description="Lightweight drape."),
        ProductFactory(title="Georgette saree with blouse piece", description="",
                       title_hi="जॉर्जेट साड़ी", title_ar="ساري جورجيت"),
    ]


@pytest.fixture
def others():
    return [
        ProductFactory(title="Cotton kurta for women", description="Soft, for summer."),
        ProductFactory(title="Steel tiffin box", description="Three tiers."),
    ]


# --- search in the shopper's words ---------------------------------------------------------


def test_hindi_devanagari_words_stay_whole():
    # The vowel signs and the nukta are marks, not separators.
    assert search_terms("लाल साड़ी!") == ["लाल", "साड़ी"]
    # Arabic short vowels and the tatweel are optional in writing: dropped.
    assert search_terms("كُرتـة") == ["كرتة"]


@pytest.mark.parametrize("query", ["साड़ी", "साडी", "ساري", "sari", "saadi", "SAREE"])
def test_hindi_arabic_and_hinglish_find_the_sarees_english_finds(sarees, others, query):
    # given sarees titled in English, and the demo's synonyms
    english = ids_for("saree")
    assert english == {p.pk for p in sarees}
    # when a shopper types the word in Hindi, Arabic or a Hinglish spelling
    # then they find the same listings, and nothing else
    assert ids_for(query) == english


def test_a_synonym_joins_the_other_words_of_a_query(sarees, others):
    silk = {sarees[0].pk}
    assert ids_for("silk saree") == silk
    assert ids_for("रेशमी साड़ी") == silk
    assert ids_for("حرير ساري") == silk


def test_a_translated_title_is_found_in_its_own_words(sarees, others):
    # "जॉर्जेट" is no synonym of anything: only the Hindi title has it.
    assert ids_for("जॉर्जेट") == {sarees[2].pk}
    assert ids_for("جورجيت") == {sarees[2].pk}


def test_a_synonym_saved_by_staff_is_searched_at_once(others):
    tiffin = others[1]
    assert ids_for("डिब्बा") == set()
    # the mapping is cached; saving a row forgets it
    SearchSynonym.objects.create(concept="tiffin", language="hi", words="डिब्बा, टिफिन")
    SearchSynonym.objects.create(concept="tiffin", language="en", words="tiffin, dabba")
    assert ids_for("डिब्बा") == {tiffin.pk}
    SearchSynonym.objects.filter(language="hi").delete()
    # a queryset delete sends post_delete per row as well
    assert ids_for("डिब्बा") == set()


def test_the_search_page_finds_sarees_in_hindi_and_arabic(client, sarees, others):
    for query in ("saree", "साड़ी", "ساري", "saadi"):
        html = client.get("/search/", {"q": query}).content.decode()
        assert set(card_ids(html)) == {p.pk for p in sarees}, query


@pytest.mark.parametrize("n", [2, 20])
def test_search_in_hindi_query_count_is_flat(client, django_assert_max_num_queries, n):
    synonyms_ensure()
    for _ in range(n):
        ProductFactory(title="Cotton saree")
    client.get("/search/", {"q": "साड़ी"})
    # profile, matching ids, cards (with first photos): the synonyms are cached
    with django_assert_max_num_queries(4):
        response = client.get("/search/", {"q": "साड़ी"})
    assert len(card_ids(response.content.decode())) == n


# --- searches without results ------------------------------------------------------------


def test_a_search_without_results_is_counted_without_the_shopper(client, others):
    # given two shoppers (each gets a profile cookie) searching for what the shop lacks
    client.get("/search/", {"q": "Zari LEHENGA!"}, HTTP_ACCEPT_LANGUAGE="hi")
    other = client.__class__()
    other.get("/search/", {"q": "zari lehenga"}, HTTP_ACCEPT_LANGUAGE="hi")
    other.get("/search/", {"q": "zari lehenga"}, HTTP_ACCEPT_LANGUAGE="en")
    # and searches that find something, or page on
    client.get("/search/", {"q": "kurta"})
    # then each query text and language is one row with its count
    rows = {(m.query, m.language): m.count for m in SearchMiss.objects.all()}
    assert rows == {("zari lehenga", "hi"): 2, ("zari lehenga", "en"): 1}
    # and nothing in the table could say who searched
    columns = {f.name for f in SearchMiss._meta.get_fields()}
    assert columns == {"id", "query", "language", "count", "first_seen", "last_seen"}
    assert ShopperProfile.objects.count() == 2


def test_an_api_search_without_results_is_counted_too(client, others):
    response = client.get("/api/v1/products/", {"q": "lehenga"})
    assert response.status_code == 200 and response.json()["results"] == []
    assert SearchMiss.objects.get().query == "lehenga"


# --- listings in the shopper's language ----------------------------------------------------


@pytest.fixture
def translated(products_with_photos):
    product = products_with_photos(1, title="Banarasi silk saree", description="Zari border.")[0]
    Product.objects.filter(pk=product.pk).update(
        title_hi="बनारसी सिल्क साड़ी", description_hi="ज़री बॉर्डर।",
        title_ar="ساري بنارسي حرير", description_ar="حافة زري.")
    plain = products_with_photos(1, title="Steel tiffin box")[0]
    return product, plain


def test_a_hindi_shopper_sees_the_hindi_title_on_cards_and_the_page(client, translated):
    product, plain = translated
    # the same client first reads in English, filling the card caches
    english = client.get(f"/c/{product.category.slug}/").content.decode()
    assert "Banarasi silk saree" in english and "बनारसी" not in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hi"
    card = client.get(f"/c/{product.category.slug}/").content.decode()
    # (the photo keeps the alt text the seller wrote for it)
    assert ">बनारसी सिल्क साड़ी</a>" in card and ">Banarasi silk saree</a>" not in card
    page = client.get(f"/p/{product.pk}/").content.decode()
    assert "<h1>बनारसी सिल्क साड़ी</h1>" in page and "ज़री बॉर्डर।" in page
    # a listing without a translation shows as written
    assert "Steel tiffin box" in client.get(f"/p/{plain.pk}/").content.decode()
    # and an Arabic shopper never gets the Hindi card from the cache
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    arabic = client.get(f"/c/{product.category.slug}/").content.decode()
    assert ">ساري بنارسي حرير</a>" in arabic and "बनारसी" not in arabic


def test_the_api_answers_in_the_language_asked_for(client, translated):
    product, plain = translated
    detail = f"/api/v1/products/{product.pk}/"
    assert client.get(detail).json()["title"] == "Banarasi silk saree"
    by_header = client.get(detail, HTTP_ACCEPT_LANGUAGE="hi").json()
    assert (by_header["title"], by_header["description"]) == ("बनारसी सिल्क साड़ी", "ज़री बॉर्डर।")
    by_param = client.get(detail, {"lang": "ar"}, HTTP_ACCEPT_LANGUAGE="hi")
    assert by_param.json()["title"] == "ساري بنارسي حرير"
    assert by_param["Content-Language"] == "ar"
    cards = {c["id"]: c["title"] for c in client.get("/api/v1/products/", {"lang": "hi"}).json()[
        "results"]}
    assert cards == {product.pk: "बनारसी सिल्क साड़ी", plain.pk: "Steel tiffin box"}
    # the card cache is per language: English again is English
    english = client.get("/api/v1/products/", {"lang": "en"}).json()["results"]
    assert {c["title"] for c in english} == {"Banarasi silk saree", "Steel tiffin box"}


def test_an_unknown_lang_is_a_400_naming_it(client, translated):
    response = client.get("/api/v1/products/", {"lang": "xx"})
    assert response.status_code == 400
    assert "lang" in response.json()["error"]["fields"]


def test_the_micro_cache_keeps_languages_apart(client, translated, settings):
    settings.SHOP_API_MICROCACHE_SECONDS = 15
    product, _plain = translated
    detail = f"/api/v1/products/{product.pk}/"
    assert client.get(detail, HTTP_ACCEPT_LANGUAGE="hi").json()["title"] == "बनारसी सिल्क साड़ी"
    assert client.get(detail, HTTP_ACCEPT_LANGUAGE="en").json()["title"] == "Banarasi silk saree"
