"""Feed cursors: any bad cursor restarts cleanly at page 1, never errors."""

from __future__ import annotations

import pytest
from django.core import signing

from personalization.cursor import FeedCursor, cursor_decode, cursor_encode
from personalization.models import ShopperProfile
from personalization.selectors import feed_page_get
from tests.factories import make_products

pytestmark = pytest.mark.django_db


def test_cursor_round_trips_for_its_own_shopper():
    cursor = FeedCursor(snapshot_id="abc", offset=40, version=3, as_of=1_700_000_000)

    token = cursor_encode(cursor=cursor, shopper_key=7)

    assert cursor_decode(token=token, shopper_key=7, max_age=60) == cursor


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a" * 2000, "eyJhIjoxfQ:1abc:xyz", None],
)
def test_garbled_cursor_decodes_to_none(token):
    assert cursor_decode(token=token, shopper_key=7, max_age=60) is None


def test_other_shoppers_cursor_decodes_to_none():
    token = cursor_encode(cursor=FeedCursor("abc", 20, 1, 1), shopper_key=7)

    assert cursor_decode(token=token, shopper_key=8, max_age=60) is None


def test_expired_cursor_decodes_to_none():
    token = cursor_encode(cursor=FeedCursor("abc", 20, 1, 1), shopper_key=7)

    assert cursor_decode(token=token, shopper_key=7, max_age=-1) is None


def test_validly_signed_but_malformed_payload_decodes_to_none():
    # Only someone holding the secret key could make this, but it must not 500.
    token = signing.dumps({"offset": -1}, salt="personalization.feed.cursor:7")

    assert cursor_decode(token=token, shopper_key=7, max_age=60) is None


def _first_ids(page):
    return [item.product_id for item in page.items]


@pytest.mark.parametrize("bad", ["forged", "foreign", "garbled"])
def test_feed_with_a_bad_cursor_restarts_at_page_one(bad):
    make_products(12)
    shopper = ShopperProfile.objects.create()
    other = ShopperProfile.objects.create()
    first = feed_page_get(shopper=shopper, cursor=None, page_size=5)
    tokens = {
        "forged": first.next_cursor[:-3] + "abc",
        "foreign": feed_page_get(shopper=other, cursor=None, page_size=5).next_cursor,
        "garbled": "%%%not-a-cursor%%%",
    }

    page = feed_page_get(shopper=shopper, cursor=tokens[bad], page_size=5)

    assert _first_ids(page) == _first_ids(first)
    assert page.next_cursor is not None


def test_replayed_cursor_returns_the_same_page_again():
    make_products(12)
    shopper = ShopperProfile.objects.create()
    first = feed_page_get(shopper=shopper, cursor=None, page_size=5)

    second = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=5)
    replay = feed_page_get(shopper=shopper, cursor=first.next_cursor, page_size=5)

    assert _first_ids(second) == _first_ids(replay)
    assert not set(_first_ids(first)) & set(_first_ids(second))
