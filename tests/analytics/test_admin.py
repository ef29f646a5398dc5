"""The analytics dashboards and exports: login, seller scoping, k suppression, query budget."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.refresh import analytics_refresh
from personalization.models import Event
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTINGS = reverse("admin:analytics_snapshot_changelist")
AUDIENCE = reverse("admin:analytics_snapshot_audience")
GROWTH = reverse("admin:analytics_snapshot_growth")
RANKING = reverse("admin:analytics_snapshot_ranking")
NOTIFICATIONS = reverse("admin:analytics_snapshot_notifications")


def export_url(table: str) -> str:
    return reverse("admin:analytics_snapshot_export", kwargs={"table": table})


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def served(shop, k3):
    analytics_refresh(now=shop.now)
    return shop


def test_pages_need_a_login(client, served):
    for url in (LISTINGS, AUDIENCE, GROWTH, RANKING, NOTIFICATIONS, export_url("listings")):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_seller_sees_their_own_listings_only(client, served):
    client.force_login(served.seller_a.user)
    response = client.get(LISTINGS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Kurta" in page and "Scarf" in page and "Data as of" in page
    assert "HYPERLINK" not in page  # seller B's listing
    # The funnel chart is an accessible inline SVG with its numbers in a table too.
    assert 'role="img"' in page and "<title" in page


def test_seller_cannot_open_another_sellers_figures_by_url(client, served):
    client.force_login(served.seller_b.user)
    a = served.seller_a.pk
    for url in (LISTINGS, AUDIENCE, export_url("funnel"), export_url("listings"),
                export_url("slow-movers"),
                export_url("audience-region"), export_url("audience-age-gender")):
        response = client.get(f"{url}?seller={a}")
        assert response.status_code == 403, url
        assert b"Kurta" not in response.content
    # An id that does not exist is refused the same way: no probing for sellers.
    assert client.get(f"{LISTINGS}?seller=999999").status_code == 403


def test_seller_export_holds_their_rows_only_and_defuses_formulas(client, served):
    client.force_login(served.seller_b.user)
    rows = read_csv(client.get(export_url("listings")))
    assert rows[0][:3] == ["product_id", "title", "status"]
    assert [r[0] for r in rows[1:]] == [str(served.b1.pk)]
    # The title starts with "=": a spreadsheet must read it as text.
    assert rows[1][1] == "'=HYPERLINK(\"x\")"
    assert rows[1][10] == "300.00"  # revenue 30000 minor units, exact decimal


def test_funnel_export_matches_the_page(client, served):
    client.force_login(served.seller_a.user)
    rows = read_csv(client.get(export_url("funnel")))
    # Seller A: impressions 10 + 60 + 2, clicks 3, carts 2, orders 2, units 3, 1500.00.
    assert rows == [["figure", "value", "currency"], ["listings", "4", ""],
                    ["impressions", "72", ""], ["clicks", "3", ""], ["add_to_cart", "2", ""],
                    ["orders", "2", ""], ["units", "3", ""], ["revenue", "1500.00", "INR"]]


def test_every_table_shown_has_a_working_export(client, served, staff_user):
    client.force_login(staff_user)
    seller = f"?seller={served.seller_a.pk}"
    for url in (LISTINGS + seller, AUDIENCE + seller, GROWTH, RANKING, NOTIFICATIONS):
        page = client.get(url).content.decode()
        tables = page.count('<table class="an-table"')  # not the admin sidebar's
        links = re.findall(r'href="([^"]*/export/[^"]*)"', page)
        assert len(links) == tables, url
        for link in links:
            assert read_csv(client.get(link.replace("&amp;", "&")))[0], link


def test_seller_gets_no_staff_pages_or_exports(client, served):
    client.force_login(served.seller_a.user)
    for url in (GROWTH, RANKING, NOTIFICATIONS, export_url("cohorts-week"),
                export_url("cohorts-region"), export_url("lifecycle"),
                export_url("events-per-day"), export_url("notifications-campaign")):
        assert client.get(url).status_code == 403, url
    index = client.get(reverse("admin:index")).content.decode()
    assert LISTINGS in index  # the seller finds the dashboard in the admin index


def test_audience_page_and_export_never_show_a_cell_under_k(client, served):
    client.force_login(served.seller_a.user)
    page = client.get(AUDIENCE).content.decode()
    # Karnataka has 2 consenting shoppers (< k = 3): named, marked "<3", no figures.
    ka_row = page[page.index("Karnataka"):]
    ka_row = ka_row[:ka_row.index("</tr>")]
    assert "&lt;3" in ka_row and "too few to show" in ka_row
    text = re.sub(r"<[^>]*>", " ", ka_row).replace("&lt;3", "")
    assert not any(ch.isdigit() for ch in text), text
    region = read_csv(client.get(export_url("audience-region")))
    assert [r[0] for r in region[1:]] == ["Maharashtra"]
    assert region[1][1:4] == ["3", "3", "2"]
    demo = read_csv(client.get(export_url("audience-age-gender")))
    assert [r[0] for r in demo[1:]] == ["25–34 · Female"]


def test_cohort_exports_leave_small_cohorts_out(client, served, staff_user):
    client.force_login(staff_user)
    rows = read_csv(client.get(export_url("cohorts-region")))
    assert rows[0] == ["region", "shoppers", *(f"reached_{n}_orders_percent" for n in (1, 2, 3, 4)),
                       "still_open"]
    assert [r[0] for r in rows[1:]] == ["Maharashtra"]  # Karnataka 2, Delhi 1: < k
    page = client.get(GROWTH).content.decode()
    assert "Karnataka" in page and "&lt;3" in page


def test_staff_pick_any_seller_and_see_shop_pages(client, served, staff_user):
    client.force_login(staff_user)
    assert "Choose a seller" in client.get(LISTINGS).content.decode()
    page = client.get(f"{LISTINGS}?seller={served.seller_b.pk}").content.decode()
    assert "HYPERLINK" in page and "Kurta" not in page
    for url in (GROWTH, RANKING, NOTIFICATIONS):
        response = client.get(url)
        assert response.status_code == 200 and b"Data as of" in response.content
    ranking = client.get(RANKING).content.decode()
    assert "80.0%" in ranking  # coverage: 4 of 5 active listings
    assert "do not store the feed" in ranking  # CTR by reason is not possible: said so
    rows = read_csv(client.get(export_url("events-per-hour")))
    assert sum(int(r[1]) for r in rows[1:]) == 87


def test_staff_without_the_permission_see_nothing(client, served):
    user = UserFactory(username="clerk", is_staff=True)
    client.force_login(user)
    for url in (LISTINGS, GROWTH, export_url("lifecycle")):
        assert client.get(url).status_code == 403
    assert LISTINGS not in client.get(reverse("admin:index")).content.decode()


def test_a_seller_login_whose_seller_row_is_gone_sees_nothing(client, served):
    from catalog.services import sellers_group_ensure

    user = UserFactory(username="orphan", is_staff=True)
    user.groups.add(sellers_group_ensure())
    client.force_login(user)
    for url in (LISTINGS, AUDIENCE, GROWTH, export_url("listings"), export_url("lifecycle")):
        assert client.get(url).status_code == 403, url
        assert client.get(f"{url}?seller={served.seller_a.pk}").status_code == 403, url


def test_superuser_sees_everything(client, served):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert b"Kurta" in client.get(f"{LISTINGS}?seller={served.seller_a.pk}").content
    assert client.get(GROWTH).status_code == 200


def test_bad_query_parameters_are_a_400(client, served, staff_user):
    client.force_login(staff_user)
    assert client.get(f"{LISTINGS}?seller=abc").status_code == 400
    assert client.get(f"{LISTINGS}?seller={served.seller_a.pk}&page=0").status_code == 400
    response = client.get(f"{LISTINGS}?seller={served.seller_a.pk}&page=9")
    assert response.status_code == 400 and b"page" in response.content
    assert client.get(f"{GROWTH}?seller={served.seller_a.pk}").status_code == 400
    assert client.get(f"{LISTINGS}?seller=999999").status_code == 404
    assert client.get(export_url("no-such-table")).status_code == 404


def test_before_the_first_refresh_pages_say_so(client, shop, staff_user):
    client.force_login(shop.seller_a.user)
    assert b"No figures yet" in client.get(LISTINGS).content
    assert client.get(export_url("listings")).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_dashboards_query_count_is_flat(client, staff_user, n):
    seller = SellerFactory()
    products = ProductFactory.create_batch(n, seller=seller)
    Event.objects.bulk_create(Event(product=p, type="view", context="feed") for p in products)
    analytics_refresh()
    # Every page: session, user, user.seller (who is asking), the served
    # snapshot, and the admin sidebar's user and group permissions (2). Staff
    # add the Sellers-group check and the seller asked for.
    client.force_login(seller.user)
    budgets = {
        LISTINGS: 10,  # + funnel totals, one page of listings, slow movers, referrals
        AUDIENCE: 7,  # + segment cells
    }
    _assert_budgets(client, budgets)
    client.force_login(staff_user)
    _assert_budgets(client, {
        # + the Sellers-group check, the seller asked for, the picker's list
        f"{LISTINGS}?seller={seller.pk}": 13,
        f"{AUDIENCE}?seller={seller.pk}": 10,
        GROWTH: 9,  # + cohorts, stages
        RANKING: 10,  # + contexts, volumes, the served ranking version's fitted weights
        NOTIFICATIONS: 8,  # + the notification cells
    })


def _assert_budgets(client, budgets: dict[str, int]) -> None:
    for url, budget in budgets.items():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        # A ceiling, not an exact count: with Redis configured the session
        # comes from the cache (cached_db) and the page makes one query fewer.
        assert len(queries) <= budget, (url, len(queries),
                                        "\n".join(q["sql"][:150] for q in queries))
