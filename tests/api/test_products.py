"""Products list and detail: filters, ordering, keyset pages, sparse fields, caching."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import Product
from tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    RegionFactory,
    SellerFactory,
    make_products,
)

from .conftest import add_card_image, assert_error

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_list_shows_only_published_products_as_compact_cards(api):
    # given one active and one draft and one archived listing
    active = ProductFactory(title="Steel tiffin", price_minor=24950, compare_at_minor=29900)
    add_card_image(active)
    ProductFactory(status=Product.Status.DRAFT)
    ProductFactory(status=Product.Status.ARCHIVED)
    # when
    response = api.get(URL)
    # then only the active one, as a card with the price as a decimal string
    assert response.status_code == 200
    (card,) = response.json()["results"]
    assert card["id"] == active.pk
    assert card["title"] == "Steel tiffin"
    assert card["price"] == "249.50"
    assert card["compare_at_price"] == "299.00"
    assert card["discount_percent"] == 16
    assert card["currency"] == "INR" and card["in_stock"] is True and card["cod"] is True
    assert card["image"]["color"] == "#112233"
    assert card["image"]["src"].endswith("-320.jpeg")
    assert "-480.avif 480w" in card["image"]["srcset"]["avif"]
    assert "640w" not in card["image"]["srcset"]["avif"]  # cards never need more than 480 w
    assert "description" not in card
    assert response.json()["next_cursor"] is None


def test_category_filter_includes_subcategories(api):
    top = CategoryFactory(slug="clothing")
    sub = CategoryFactory(slug="kurtas", parent=top)
    other = CategoryFactory(slug="kitchen")
    in_top, in_sub = ProductFactory(category=top), ProductFactory(category=sub)
    ProductFactory(category=other)
    assert set(ids(api.get(URL, {"category": "clothing"}))) == {in_top.pk, in_sub.pk}
    assert ids(api.get(URL, {"category": "kurtas"})) == [in_sub.pk]


def test_price_range_is_in_major_units_and_inclusive(api):
    cheap = ProductFactory(price_minor=19950, compare_at_minor=None)
    mid = ProductFactory(price_minor=50000, compare_at_minor=None)
    ProductFactory(price_minor=99900, compare_at_minor=None)
    assert set(ids(api.get(URL, {"min_price": "199.50", "max_price": "500"}))) == {cheap.pk, mid.pk}
    assert ids(api.get(URL, {"min_price": "199.51", "max_price": "500.00"})) == [mid.pk]


def test_seller_and_stock_filters(api):
    seller = SellerFactory(slug="meena-textiles")
    mine_in_stock = ProductFactory(seller=seller, stock=3)
    mine_sold_out = ProductFactory(seller=seller, stock=0)
    ProductFactory(stock=5)
    mine = {"seller": "meena-textiles"}
    assert set(ids(api.get(URL, mine))) == {mine_in_stock.pk, mine_sold_out.pk}
    assert ids(api.get(URL, {**mine, "in_stock": "true"})) == [mine_in_stock.pk]
    assert ids(api.get(URL, {**mine, "in_stock": "false"})) == [mine_sold_out.pk]


def test_region_filter_matches_everywhere_the_region_and_its_ancestors(api):
    india = RegionFactory(code="IN")
    mh = RegionFactory(code="IN-MH", kind="state", parent=india)
    pune = RegionFactory(code="IN-MH-PUN", kind="city", parent=mh)
    delhi = RegionFactory(code="IN-DL", kind="state", parent=india)
    everywhere = ProductFactory()
    all_india = ProductFactory(regions=[india])
    maharashtra = ProductFactory(regions=[mh])
    pune_only = ProductFactory(regions=[pune])
    ProductFactory(regions=[delhi])
    response = api.get(URL, {"region": "IN-MH-PUN"})
    assert set(ids(response)) == {everywhere.pk, all_india.pk, maharashtra.pk, pune_only.pk}
    state_wide = {everywhere.pk, all_india.pk, maharashtra.pk}
    assert set(ids(api.get(URL, {"region": "IN-MH"}))) == state_wide


def test_q_searches_titles_and_descriptions(api):
    kurta = ProductFactory(title="Blue cotton kurta", description="Handloom")
    saree = ProductFactory(title="Silk saree", description="Pairs well with a kurta")
    ProductFactory(title="Steel tiffin", description="Keeps food warm")
    assert set(ids(api.get(URL, {"q": "kurta"}))) == {kurta.pk, saree.pk}
    assert ids(api.get(URL, {"q": "tiffin", "max_price": "1"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "no-such-category"}, "category"),
        ({"seller": "nobody"}, "seller"),
        ({"region": "XX-NOPE"}, "region"),
        ({"min_price": "cheap"}, "min_price"),
        ({"min_price": "1.234"}, "min_price"),
        ({"min_price": "-5"}, "min_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"min_price": "500", "max_price": "100"}, "max_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"in_stock": "TRUE"}, "in_stock"),
        ({"ordering": "title"}, "ordering"),
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"cursor": "forged"}, "cursor"),
        ({"fields": "id,secret"}, "fields"),
        ({"catgory": "clothing"}, "catgory"),
    ],
)
def test_bad_query_values_are_400_with_the_field_named(api, params, field):
    ProductFactory()
    fields = assert_error(api.get(URL, params), 400, "invalid")
    assert field in fields and fields[field]


@pytest.mark.parametrize("ordering", ["newest", "price", "-price"])
def test_keyset_pages_neither_repeat_nor_skip_even_when_listings_arrive(api, ordering):
    # given 7 listings with equal prices and equal timestamps in places (ties
    # are broken by id) and timestamps stored both by the database and by Python
    now = timezone.now()
    products = make_products(7)
    for i, product in enumerate(products):
        Product.objects.filter(pk=product.pk).update(price_minor=10000 * (i % 3))
        if i % 2:
            earlier = now - dt.timedelta(hours=i // 2)
            Product.objects.filter(pk=product.pk).update(created_at=earlier)
    seen: list[int] = []
    response = api.get(URL, {"ordering": ordering, "limit": 3})
    seen += ids(response)
    # when a new listing arrives between page loads
    ProductFactory(price_minor=10000)
    while response.json()["next_cursor"]:
        response = api.get(URL, {"ordering": ordering, "limit": 3,
                                 "cursor": response.json()["next_cursor"]})
        assert response.status_code == 200
        seen += ids(response)
    # then every original listing was seen exactly once
    assert len(seen) == len(set(seen))
    assert {p.pk for p in products} <= set(seen)
    expected = list(
        Product.objects.filter(pk__in=seen).order_by(
            *{"newest": ("-created_at", "-id"), "price": ("price_minor", "id"),
              "-price": ("-price_minor", "-id")}[ordering]
        ).values_list("pk", flat=True)
    )
    assert seen == [pk for pk in expected if pk in seen]


def test_empty_ordering_is_the_documented_default(api):
    # given listings of different ages; an empty value means "unset", as the
    # schema's enum says (a schema-fuzz run once found it undocumented)
    products = make_products(3)
    newest = ids(api.get(URL, {"ordering": "newest"}))
    response = api.get(URL, {"ordering": ""})
    assert response.status_code == 200
    assert ids(response) == newest and set(newest) == {p.pk for p in products}
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    params = schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    ordering = next(p for p in params if p["name"] == "ordering")
    assert ordering["schema"]["enum"] == ["", "-price", "newest", "price"]


def test_empty_in_stock_is_unset_as_the_schema_says(api):
    products = make_products(2)
    Product.objects.filter(pk=products[0].pk).update(stock=0)
    response = api.get(URL, {"in_stock": ""})
    assert response.status_code == 200
    assert set(ids(response)) == {p.pk for p in products}
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    params = schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    in_stock = next(p for p in params if p["name"] == "in_stock")
    assert sorted(in_stock["schema"]["enum"]) == ["", "false", "true"]


def test_cursor_of_one_ordering_is_refused_for_another(api):
    make_products(3)
    cursor = api.get(URL, {"ordering": "price", "limit": 1}).json()["next_cursor"]
    fields = assert_error(api.get(URL, {"ordering": "-price", "cursor": cursor}), 400, "invalid")
    assert "cursor" in fields


def test_sparse_fields_return_only_the_named_keys(api):
    ProductFactory()
    response = api.get(URL, {"fields": "id,price"})
    assert response.status_code == 200
    assert [set(row) for row in response.json()["results"]] == [{"id", "price"}]


def test_public_list_is_cacheable_and_answers_304_to_a_matching_etag(api):
    ProductFactory()
    first = api.get(URL)
    assert first["Cache-Control"] == "public, max-age=60"
    assert "Cookie" not in first.get("Vary", "")
    assert "Set-Cookie" not in first.headers
    etag = first["ETag"]
    again = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    # a change in the data changes the ETag
    ProductFactory()
    assert api.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_micro_cache_answers_a_repeated_public_request_without_queries(
        api, settings, django_assert_num_queries):
    settings.SHOP_API_MICROCACHE_SECONDS = 15
    ProductFactory(title="First")
    first = api.get(URL, {"limit": 5})
    with django_assert_num_queries(0):
        again = api.get(URL, {"limit": 5})
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "public, max-age=60"
    with django_assert_num_queries(0):
        assert api.get(URL, {"limit": 5}, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # another query string is another entry; errors are never kept
    assert api.get(URL, {"limit": 4}).status_code == 200
    assert api.get(URL, {"limit": 0}).status_code == 400
    assert api.get(URL, {"limit": 0}).status_code == 400


def test_list_responses_are_gzip_compressed_for_clients_that_accept_it(api):
    make_products(20)
    response = api.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]


@pytest.mark.parametrize("n", [2, 20])
def test_list_query_count_is_flat(api, django_assert_max_num_queries, n):
    category = CategoryFactory(slug="flat")
    for product in make_products(n, categories=[category]):
        add_card_image(product)
    RegionFactory(code="IN")
    # category lookup, region lookup, products, their images
    with django_assert_max_num_queries(4):
        response = api.get(URL, {"category": "flat", "region": "IN", "limit": n})
    assert len(response.json()["results"]) == n
    cursor = api.get(URL, {"limit": 1}).json()["next_cursor"]
    # products (with the cursor row's timestamp as a subquery), images
    with django_assert_max_num_queries(2):
        assert api.get(URL, {"limit": n, "cursor": cursor}).status_code == 200


def test_detail_has_every_variant_the_placeholder_the_seller_and_more_like_this(api):
    region = RegionFactory(code="IN", name="India")
    seller = SellerFactory(display_name="Meena Textiles", slug="meena", region=region)
    category = CategoryFactory(slug="sarees", name="Sarees")
    product = ProductFactory(seller=seller, category=category, description="Pure silk")
    image = ProductImageFactory(product=product, alt_text="Red saree")
    similar = ProductFactory(category=category)
    response = api.get(f"{URL}{product.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Pure silk"
    assert body["seller"] == {"slug": "meena", "name": "Meena Textiles", "verified": True,
                              "region": "India"}
    assert body["category"]["slug"] == "sarees"
    (img,) = body["images"]
    assert img["alt_text"] == "Red saree"
    assert img["placeholder"]["color"] == image.placeholder_color
    assert {(v["format"], v["width"]) for v in img["variants"]} == {
        (v["format"], v["width"]) for v in image.variants
    }
    assert all(v["url"].startswith("/media/") and v["bytes"] > 0 for v in img["variants"])
    assert [card["id"] for card in body["more_like_this"]] == [similar.pk]
    assert response["Cache-Control"] == "public, max-age=60"


@pytest.mark.parametrize("n", [2, 20])
def test_detail_query_count_does_not_grow_with_similar_items(api, django_assert_max_num_queries, n):
    category = CategoryFactory()
    product, *others = make_products(n + 1, categories=[category])
    for item in (product, *others):
        add_card_image(item)
    # product+category+seller+region, its images, similar ids, similar cards, their images
    with django_assert_max_num_queries(6):
        response = api.get(f"{URL}{product.pk}/")
    assert len(response.json()["more_like_this"]) == min(n, 8)


def test_draft_product_detail_is_404_in_the_error_shape(api):
    draft = ProductFactory(status=Product.Status.DRAFT)
    assert_error(api.get(f"{URL}{draft.pk}/"), 404, "not_found")
