"""The feed page's cached shell: the same HTML as rendering the template,
with this request's nonce, CSRF token, path, next link and cards."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation
from django.utils.safestring import mark_safe

from storefront.shell import CARDS, CSRF, NEXT, NONCE, PATH, feed_page_render, forget_shells
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


def test_markers_in_the_path_and_query_string_are_only_text(client):
    # given a feed with cards, and a URL carrying every marker of the shell
    make_products(3)
    markers = (NONCE, CSRF, PATH, NEXT, CARDS)
    query = "&".join(f"m{index}={marker}" for index, marker in enumerate(markers))
    # when it is requested (twice: rendered, then from the shell cache)
    for _ in range(2):
        html = client.get(f"/?{query}").content.decode()
        # then each footer form's `next` holds the path as text, escaped: the
        # substitution ran once, so no card or token was spliced into the attribute
        nexts = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)
        assert len(nexts) == 2 + 3  # the two footer forms and each card's "Not interested"
        for value in nexts:
            assert value == f"/?{query}".replace("&", "&amp;")
            assert "<" not in value and "card" not in value.replace(CARDS, "")
        # and the page's own markup is whole: cards once, in the list, nonce in the style tag
        assert html.count('<li class="card"') == 3
        assert html.count('<ol class="feed"') == 1
        assert re.search(r'<style nonce="[A-Za-z0-9+/=_-]+">', html)


def test_the_shell_shows_nothing_of_the_request_that_rendered_it(settings, tmp_path, client,
                                                                   django_user_model):
    # given a base template that (wrongly) reads per-user values, as a later edit might
    original = (settings.BASE_DIR / "templates" / "base.html").read_text()
    leaky = original.replace(
        "<body",
        "<!--[user={{ user.username }}|req={{ request.user.username }}|"
        "cookie={{ request.COOKIES.sessionid }}|msgs={{ messages|length }}]--><body", 1)
    assert leaky != original
    (tmp_path / "base.html").write_text(leaky)
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    forget_shells()
    make_products(2)
    alice = django_user_model.objects.create_user("alice", password="x")
    client.force_login(alice)
    try:
        # when Alice renders the shell that everyone then shares
        html = client.get("/").content.decode()
        # then nothing of hers is in it: the templates only ever see the allow-list
        assert "<!--[user=|req=|cookie=|msgs=0]-->" in html or \
               "<!--[user=|req=|cookie=|msgs=]-->" in html
        assert "alice" not in html
    finally:
        forget_shells()
