"""The recommend command: JSON lines, unknown shoppers as error lines."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Product, Seller
from personalization.models import Event, ShopperProfile
from personalization.rebuild import affinities_rebuild
from tests.factories import make_products

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(settings):
    settings.PERSONALIZATION = {"K_THRESHOLD": 2}
    products = make_products(12)
    # Nothing new: exploration slots stay out of the way of the assertions.
    old = timezone.now() - timedelta(days=90)
    Product.objects.update(created_at=old)
    Seller.objects.update(created_at=old)
    fans = [ShopperProfile.objects.create(external_id=f"S{i}") for i in range(3)]
    for fan in fans:
        Event.objects.create(shopper=fan, product=products[4], type="purchase")
    affinities_rebuild()
    return products, fans


def _lines(**options):
    out = StringIO()
    call_command("recommend", stdout=out, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_recommend_prints_external_product_ids_and_reasons(shop):
    products, _fans = shop
    newcomer = ShopperProfile.objects.create(external_id="NEW1")

    (line,) = _lines(shopper="NEW1", limit="5")

    assert line["shopper"] == "NEW1"
    assert len(line["items"]) == len(line["reasons"]) == len(line["reason_args"]) == 5
    assert line["items"][0] == products[4].external_id
    assert line["reasons"][0] == "popular"
    assert all(item.startswith("P") for item in line["items"])
    # Reading a feed records nothing.
    assert not Event.objects.filter(shopper=newcomer).exists()


def test_recommend_accepts_the_public_id_too(shop):
    shopper = ShopperProfile.objects.create()

    (line,) = _lines(shopper=str(shopper.public_id))

    assert line["shopper"] == str(shopper.public_id) and len(line["items"]) == 10


def test_unknown_shopper_is_an_error_line_and_the_others_still_print(shop, tmp_path):
    path = tmp_path / "shoppers.csv"
    path.write_text("id\nS0\nnobody\n\nS1\n", encoding="utf-8")

    lines = _lines(shoppers_file=str(path), limit="3")

    assert [line["shopper"] for line in lines] == ["S0", "nobody", "S1"]
    assert lines[1] == {"shopper": "nobody", "error": "unknown shopper"}
    assert len(lines[0]["items"]) == 3 and len(lines[2]["items"]) == 3
    # S0 bought the hit: never recommended back.
    assert shop[0][4].external_id not in lines[0]["items"]


@pytest.mark.parametrize("limit", ["0", "-3", "ten", "100000"])
def test_bad_limit_is_a_command_error(shop, limit):
    with pytest.raises(CommandError, match="--limit"):
        call_command("recommend", shopper="S0", limit=limit, stdout=StringIO())


def test_missing_or_undecodable_file_is_a_command_error_with_the_line(shop, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"S0\nS1\n\xff\xfe\n")

    with pytest.raises(CommandError, match="line 3"):
        call_command("recommend", shoppers_file=str(bad), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("recommend", shoppers_file=str(tmp_path / "nope.txt"), stdout=StringIO())


def test_shopper_or_file_is_required(shop):
    with pytest.raises(CommandError):
        call_command("recommend", stdout=StringIO())
