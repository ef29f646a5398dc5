"""The search vocabulary and listing translations as staff and sellers keep them:
synonyms in the admin and in CSV, searches without results, translated listings
in the admin and the products CSV."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from catalog.importers import import_products
from catalog.models import Product, SearchMiss, SearchSynonym
from catalog.search import products_search
from core.datasets import DatasetError
from tests.catalog.admin_support import PASSWORD, make_seller, product_form_data
from tests.catalog.test_import_products import vocabulary, write  # noqa: F401 - a fixture
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(user)
    return user


def url(name: str, *args) -> str:
    return reverse(f"admin:catalog_{name}", args=args)


# --- synonyms in the admin ----------------------------------------------------------------


def test_staff_add_synonyms_and_search_uses_them_at_once(client, staff):
    lamp = ProductFactory(title="Brass diya", description="")
    assert products_search(query="दीया", page=1, page_size=20).product_ids == []
    for language, words in (("en", "diya, diyas, deepak"), ("hi", "दीया, दिया, दीपक")):
        response = client.post(url("searchsynonym_add"),
                               {"concept": "diya", "language": language, "words": words})
        assert response.status_code == 302
    assert SearchSynonym.objects.get(language="hi").words == "दीया, दिया, दीपक"
    assert products_search(query="दीया", page=1, page_size=20).product_ids == [lamp.pk]


@pytest.mark.parametrize(("words", "message"), [
    ("t shirt, tee", "is not one word"),
    (" , ,", "at least one word"),
])
def test_a_synonym_that_is_not_single_words_is_a_form_error(client, staff, words, message):
    response = client.post(url("searchsynonym_add"),
                           {"concept": "tee", "language": "en", "words": words})
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["words"])
    assert not SearchSynonym.objects.exists()


def test_a_second_row_for_a_concept_and_language_is_a_form_error(client, staff):
    SearchSynonym.objects.create(concept="saree", language="hi", words="साड़ी")
    response = client.post(url("searchsynonym_add"),
                           {"concept": "saree", "language": "hi", "words": "साडी"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert SearchSynonym.objects.count() == 1


def test_sellers_see_neither_synonyms_nor_misses(client):
    seller = make_seller("chitra")
    client.force_login(seller.user)
    SearchSynonym.objects.create(concept="saree", language="hi", words="साड़ी")
    for name in ("searchsynonym_changelist", "searchsynonym_add", "searchmiss_changelist"):
        assert client.get(url(name)).status_code == 403, name
    assert "searchsynonym" not in client.get(reverse("admin:index")).content.decode()


def test_staff_read_the_searches_without_results_most_asked_first(client, staff):
    now = timezone.now()
    SearchMiss.objects.create(query="lehenga", language="hi", count=7, first_seen=now,
                              last_seen=now)
    SearchMiss.objects.create(query="dupatta", language="en", count=2, first_seen=now,
                              last_seen=now)
    html = client.get(url("searchmiss_changelist")).content.decode()
    assert html.index("lehenga") < html.index("dupatta")
    # read only: counted by searches, never typed in
    assert client.get(url("searchmiss_add")).status_code == 403


# --- synonyms in CSV ----------------------------------------------------------------------


def test_a_synonyms_file_upserts_by_concept_and_language(tmp_path):
    SearchSynonym.objects.create(concept="saree", language="hi", words="सारी")
    path = write(tmp_path, "concept,language,words\nsaree,en,saree|sari|saadi\n"
                           "saree,hi,साड़ी|साडी\nsaree,ar,\"ساري, ساريه\"\n", "syn.csv")
    out = io.StringIO()
    call_command("import_dataset", synonyms=str(path), stdout=out)
    assert "synonyms: 3 rows imported" in out.getvalue()
    rows = dict(SearchSynonym.objects.values_list("language", "words"))
    assert rows == {"en": "saree, sari, saadi", "hi": "साड़ी, साडी", "ar": "ساري, ساريه"}
    saree = ProductFactory(title="Silk saree")
    assert products_search(query="ساريه", page=1, page_size=20).product_ids == [saree.pk]


def test_bad_synonym_rows_are_reported_by_line_and_nothing_is_written(tmp_path):
    path = write(tmp_path, "concept,language,words\nsaree,en,saree|sari\n"
                           "saree,fr,sari\nTee Shirt,en,tee\nkurta,hi,कुर्ता|लंबा कुर्ता\n"
                           "saree,en,saadi\n", "syn.csv")
    with pytest.raises(CommandError) as raised:
        call_command("import_dataset", synonyms=str(path), stdout=io.StringIO())
    message = str(raised.value)
    assert "line 3: language 'fr' is not one of en, hi, ar" in message
    assert "line 4: concept 'Tee Shirt'" in message
    assert "line 5: words: “लंबा कुर्ता” is not one word" in message
    assert "line 6: saree (en) is already on line 2" in message
    assert not SearchSynonym.objects.exists()


# --- translated listings ------------------------------------------------------------------


def test_a_seller_translates_a_listing_in_the_admin(client):
    seller = make_seller("chitra")
    client.force_login(seller.user)
    product = ProductFactory(seller=seller, title="Handloom saree")
    data = product_form_data(product, title_hi="हथकरघा साड़ी ", title_ar="ساري منسوج يدويًا",
                             description_hi="सूती।", description_ar="")
    response = client.post(url("product_change", product.pk), data)
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.title_hi, product.title_ar, product.description_hi) == (
        "हथकरघा साड़ी", "ساري منسوج يدويًا", "सूती।")
    # and shoppers find it by the translated words
    assert products_search(query="हथकरघा", page=1, page_size=20).product_ids == [product.pk]
    # the change form marks each field's language and direction
    form = client.get(url("product_change", product.pk)).content.decode()
    assert 'name="title_ar"' in form and 'dir="rtl"' in form and 'lang="hi"' in form


def test_a_seller_adds_a_translated_listing(client):
    seller = make_seller("chitra")
    client.force_login(seller.user)
    category = CategoryFactory()
    data = product_form_data(category=category.pk, title="Brass lamp", title_hi="पीतल का दीया")
    assert client.post(url("product_add"), data).status_code == 302
    assert Product.objects.get(title="Brass lamp").title_hi == "पीतल का दीया"


def test_products_csv_imports_the_translation_columns(tmp_path, vocabulary):  # noqa: F811
    path = write(tmp_path, "id,title,category,price,title_hi,title_ar,description_hi,"
                           "description_ar\n"
                           "k-1,Chikan kurta,kurtas,499,चिकन कुर्ता,كورتا تشيكان,सूती कुर्ता।,\n"
                           "k-2,Khadi kurta,kurtas,599,,,,\n")
    assert import_products(path) == 2
    first, second = Product.objects.order_by("external_id")
    assert (first.title_hi, first.title_ar, first.description_hi, first.description_ar) == (
        "चिकन कुर्ता", "كورتا تشيكان", "सूती कुर्ता।", "")
    assert (second.title_hi, second.title_ar) == ("", "")
    # a file without the columns leaves the translations as they are
    write(tmp_path, "id,title,category,price\nk-1,Chikan kurta v2,kurtas,499\n")
    import_products(tmp_path / "products.csv")
    first.refresh_from_db()
    assert (first.title, first.title_hi) == ("Chikan kurta v2", "चिकन कुर्ता")
    assert products_search(query="كورتا", page=1, page_size=20).product_ids == [first.pk]


def test_a_too_long_translated_title_is_a_row_error(tmp_path, vocabulary):  # noqa: F811
    path = write(tmp_path, f"id,title,category,price,title_hi\nk-1,Kurta,kurtas,499,{'क' * 141}\n")
    with pytest.raises(DatasetError, match="line 2: title_hi is longer than 140"):
        import_products(path)
    assert not Product.objects.exists()


# --- the demo's words ---------------------------------------------------------------------


def test_the_demo_category_words_find_the_same_listings_in_english_hindi_and_arabic():
    # given the demo catalog (without its photos) and its synonyms
    from catalog import demo
    from catalog.demo_words import DEMO_SYNONYMS

    regions, _ = demo.regions_ensure()
    categories, _ = demo.categories_ensure()
    sellers, _ = demo.sellers_ensure(regions)
    specs = [demo.product_spec(index, seed=7) for index in range(150)]
    demo.products_ensure(specs, sellers=sellers, categories=categories, regions=regions,
                         now=timezone.now(), stdout=None)
    demo.synonyms_ensure()
    # when a shopper searches a concept's first word in each language
    by_concept: dict[str, dict[str, set[int]]] = {}
    for concept, language, words in DEMO_SYNONYMS:
        word = words.split(",")[0].strip()
        found = set(products_search(query=word, page=1, page_size=500).product_ids)
        by_concept.setdefault(concept, {})[language] = found
    # then the three languages find the same listings, for every concept
    for concept, found in by_concept.items():
        assert found["en"] == found["hi"] == found["ar"], concept
    # and the fashion words find every saree and kurta of the catalog
    for concept, slug in (("saree", "sarees"), ("kurta", "kurtas")):
        listed = set(Product.objects.filter(category__slug=slug, status="active")
                     .values_list("pk", flat=True))
        assert listed and by_concept[concept]["hi"] == listed, concept
    # and translated titles came with the demo's sarees
    assert Product.objects.filter(category__slug="sarees").exclude(title_hi="").exists()
