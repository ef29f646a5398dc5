"""Where a shopper shops: the profile's region, else a guess from the request."""

from __future__ import annotations

import pytest

from catalog.markets import market_get, market_infer, markets_index
from catalog.models import Region
from personalization.market import shopper_market_get
from personalization.services import shopper_create, shopper_profile_update
from tests.factories import RegionFactory
from tests.region_world import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return make_world()


def test_the_profiles_region_is_known_and_wins_over_every_header(world):
    shopper = shopper_create()
    shopper_profile_update(shopper=shopper, region_code="IN-MH-PUN")
    found = shopper_market_get(shopper=shopper, cookie_code="AE", accept_language="ar-AE")
    assert found.known and found.code == "IN-MH-PUN"
    assert found.market.codes == ("IN", "IN-MH", "IN-MH-PUN")
    assert found.market.currency == "INR"  # inherited from India on save


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"cookie_code": "NP", "accept_language": "ar"}, "NP"),
    ({"cookie_code": "XX", "accept_language": "ar"}, "AE"),  # an unknown cookie is ignored
    ({"accept_language": "hi-AE,hi;q=0.9"}, "AE"),  # the country named beats the language
    ({"accept_language": "hi"}, "IN"),
    ({"accept_language": "en-GB,en;q=0.9"}, "IN"),  # no hint: the default
    ({"languages": ["ar"], "accept_language": "en"}, "AE"),  # the chosen page language
    ({"accept_language": "x" * 2000}, "IN"),  # an absurd header is no error
])
def test_a_guess_follows_cookie_country_language_then_default(world, kwargs, expected):
    assert market_infer(**kwargs).code == expected


def test_a_language_several_countries_speak_says_nothing(world):
    RegionFactory(code="SA", name="Saudi Arabia", currency="SAR", language="ar")
    assert market_infer(accept_language="ar").code == "IN"
    assert market_infer(accept_language="ar-SA").code == "SA"


def test_the_default_region_can_be_set(world, settings):
    settings.SHOP_DEFAULT_REGION = "NP"
    assert market_infer().code == "NP"


def test_a_shop_without_regions_has_no_market(db):
    assert market_infer(accept_language="hi-IN") is None
    assert shopper_market_get(shopper=None).market is None


def test_the_cached_index_follows_region_changes(world, django_assert_num_queries):
    markets_index()
    with django_assert_num_queries(0):
        assert market_get("AE").currency == "AED"
    uae = Region.objects.get(code="AE")
    uae.name = "UAE"
    uae.save()
    assert market_get("AE").name == "UAE"
    RegionFactory(code="BD", name="Bangladesh", currency="BDT", language="bn")
    assert market_infer(accept_language="bn").code == "BD"
