"""The feed page's cached shell: the same HTML as rendering the template,
with this request's nonce, CSRF token, path, next link and cards."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation
from django.utils.safestring import mark_safe

from storefront.shell import CARDS, CSRF, NEXT, NONCE, PATH, feed_page_render
from tests.factories import make_products

pytestmark = pytest.mark.django_db


def _request(path="/", **extra):
    request = RequestFactory().get(path, **extra)
    request.csp_nonce = "n0nce"
    request.save_data = False
    return request


def _unmask(html: str) -> str:
    # A CSRF token is masked afresh each time it is asked for.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", html)


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize(("show_welcome", "first_page", "next_url", "save_data"), [
    (True, True, "/?cursor=abc", False),
    (False, False, "/?cursor=a&b=<c>", True),
    (False, True, "", False),
])
def test_shell_page_is_the_templates_page(language, show_welcome, first_page, next_url,
                                          save_data):
    make_products(2)  # category chips in the footer
    cards = [mark_safe('<li class="card" data-p="1">one</li>'), "<b>not safe</b>"]
    with translation.override(language):
        for _ in range(2):  # rendered, then from the shell cache
            request = _request('/?q="quoted"&x=<b>')
            request.save_data = save_data
            context = {"cards": cards, "next_url": next_url, "event_context": "feed",
                       "show_welcome": show_welcome, "first_page": first_page}
            expected = render_to_string("storefront/feed.html", context, request)
            got = feed_page_render(request, cards=cards, next_url=next_url,
                                   show_welcome=show_welcome, first_page=first_page)
            assert _unmask(got) == _unmask(expected)
            for marker in (NONCE, CSRF, PATH, NEXT, CARDS):
                assert marker not in got
            assert 'nonce="n0nce"' in got


def test_an_empty_feed_has_no_card_list_and_says_so():
    html = feed_page_render(_request(), cards=[], next_url="", show_welcome=False,
                            first_page=True)
    assert 'id="feed"' not in html and CARDS not in html


def test_each_request_gets_its_own_token_nonce_and_path(client):
    make_products(3)
    first = client.get("/?a=1").content.decode()
    second = client.get("/?a=2").content.decode()
    assert 'name="next" value="/?a=1"' in first and 'name="next" value="/?a=2"' in second
    nonces = [re.search(r'<style nonce="([^"]+)"', html).group(1) for html in (first, second)]
    assert nonces[0] != nonces[1]
