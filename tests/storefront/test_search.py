"""Search: relevance, prefixes, typos, sync with the catalog, paging, budgets. Both backends."""

from __future__ import annotations

import pytest

from catalog.models import Product
from catalog.search import products_search, search_terms
from tests.factories import ProductFactory, make_products
from tests.storefront.conftest import card_ids

pytestmark = pytest.mark.django_db


def ids_for(query: str, page: int = 1, page_size: int = 20) -> list[int]:
    return products_search(query=query, page=page, page_size=page_size).product_ids


def test_a_title_match_ranks_above_a_description_match():
    in_description = ProductFactory(title="Cotton dupatta", description="Goes with a silk saree")
    in_title = ProductFactory(title="Silk saree, red", description="Handwoven")
    ProductFactory(title="Steel tumbler", description="Set of six")
    assert ids_for("saree") == [in_title.pk, in_description.pk]


def test_every_word_must_match_and_prefixes_count():
    both = ProductFactory(title="Blue denim jacket", description="")
    ProductFactory(title="Blue cotton kurta", description="")
    assert ids_for("blue jack") == [both.pk]


def test_a_typo_still_finds_the_item():
    kurta = ProductFactory(title="Cotton kurta for women", description="")
    ProductFactory(title="Steel lunch box", description="")
    result = products_search(query="kurtta", page=1, page_size=20)
    assert result.product_ids == [kurta.pk]


def test_drafts_are_never_found():
    ProductFactory(title="Hidden lamp", status=Product.Status.DRAFT)
    assert ids_for("lamp") == []


def test_index_follows_title_changes_and_deletions():
    product = ProductFactory(title="Brass diya", description="")
    product.title = "Clay pot"
    product.save(update_fields=["title"])
    assert ids_for("clay") == [product.pk]
    assert ids_for("brass") == []
    product.delete()
    assert ids_for("clay") == []


def test_operators_and_punctuation_in_the_query_are_just_words():
    product = ProductFactory(title="Phone cover", description="")
    for query in ['phone" OR "x', "phone:*", "cover & | !", "NEAR(phone cover)", "'; DROP TABLE"]:
        products_search(query=query, page=1, page_size=20)  # never raises
    assert ids_for('"phone" -cover*') == [product.pk]
    assert search_terms("a" * 500 + " b") == ["a" * 40, "b"]


def test_search_pages_do_not_overlap():
    make_products(25, title="Steel bottle")
    first, second = ids_for("bottle", 1, 20), ids_for("bottle", 2, 20)
    assert len(first) == 20 and len(second) == 5 and not set(first) & set(second)


def test_search_page_shows_results_and_paging(client):
    make_products(25, title="Steel bottle")
    html = client.get("/search/", {"q": "bottle"}).content.decode()
    assert len(card_ids(html)) == 20
    assert 'href="/search/?q=bottle&amp;page=2"' in html


def test_no_results_suggest_popular_items(client):
    popular = make_products(3)
    html = client.get("/search/", {"q": "zzqqxx"}).content.decode()
    assert "Nothing matched" in html
    assert set(card_ids(html)) == {p.pk for p in popular}


def test_bad_page_is_a_400_with_the_field(client):
    response = client.get("/search/", {"q": "x", "page": "0"})
    assert response.status_code == 400
    assert "Page" in response.content.decode() or "page" in response.content.decode()
    assert client.get("/search/", {"q": "x" * 500}).status_code == 400


@pytest.mark.parametrize("n", [2, 20])
def test_search_query_count_is_flat(client, django_assert_max_num_queries, n):
    make_products(n, title="Cotton saree")
    client.get("/search/", {"q": "saree"})
    # profile, matching ids, cards (with first photos)
    with django_assert_max_num_queries(4):
        response = client.get("/search/", {"q": "saree"})
    assert len(card_ids(response.content.decode())) == n
