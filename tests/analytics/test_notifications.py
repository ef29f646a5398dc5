"""Notification analytics: per campaign, region and kind, orders after a tap, k-suppressed.

The shop below is built by hand (k = 3) and each figure is worked out in the
test that checks it:

- campaign A: four Pune shoppers (a1-a4, women 18-24); all sent, a1 and a2 delivered by
  push, a1-a3 opened, a1 and a2 tapped, a4 stopped it from the message.
  a1 ordered 2 days after the tap (counts), cancelled another order 1 day
  after (does not), ordered once before the tap (does not); a2 ordered 8 days
  after the tap (too late).
- campaign C: three Karnataka shoppers (c1-c3), c1 tapped and ordered an hour later.
- campaign B: two Karnataka shoppers (b1, b2), b1 later turned phone alerts off.
- a1 also had an order update, a1-a3 a back-in-stock message; an erased
  shopper's campaign message is counted (no shopper, no campaign); an event
  older than the 28-day window is not.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.refresh import analytics_refresh
from analytics.selectors import notification_stats_get, snapshot_active_get
from catalog.models import Region
from notifications import services as notification_services
from notifications.models import Campaign, Notification, NotificationEvent
from orders.models import LineStatus
from personalization.services import shopper_create
from tests.factories import ProductFactory, RegionFactory, SellerFactory, UserFactory

from .conftest import make_order
from .test_admin import export_url, read_csv

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:analytics_snapshot_notifications")
_keys = itertools.count(1)


def shoppers(region: Region, n: int) -> list:
    made = []
    for _ in range(n):
        profile = shopper_create()
        profile.region = region
        profile.save()
        made.append(profile)
    return made


def message(shopper, kind: str, key: str, at: dt.datetime) -> Notification:
    note = Notification.objects.create(shopper=shopper, kind=kind, title="t", body="b",
                                       dedupe_key=f"{key}:{next(_keys)}" if ":" not in key
                                       else key, status="sent", sent_at=at)
    NotificationEvent.objects.create(shopper=shopper, notification=note, type="sent", kind=kind,
                                     channel="inbox", occurred_at=at)
    return note


def event(note: Notification, type: str, at: dt.datetime, channel: str = "inbox") -> None:
    NotificationEvent.objects.create(shopper=note.shopper, notification=note, type=type,
                                     kind=note.kind, channel=channel, occurred_at=at)


@pytest.fixture
def built(db, settings):
    settings.PERSONALIZATION = {"K_THRESHOLD": 3}
    now = timezone.now().replace(microsecond=0)
    t = now - dt.timedelta(days=10)
    india = RegionFactory(code="IN", name="India", kind=Region.Kind.COUNTRY)
    mh = RegionFactory(code="IN-MH", name="Maharashtra", kind=Region.Kind.STATE, parent=india)
    pune = RegionFactory(code="IN-MH-PUN", name="Pune", kind=Region.Kind.CITY, parent=mh)
    ka = RegionFactory(code="IN-KA", name="Karnataka", kind=Region.Kind.STATE, parent=india)
    day = dt.date(2026, 12, 1)
    a = Campaign.objects.create(name="Diwali", title="x", body="y", send_on=day)
    b = Campaign.objects.create(name="Lamps", title="x", body="y", send_on=day)
    c = Campaign.objects.create(name="Pongal", title="x", body="y", send_on=day)
    a1, a2, a3, a4 = shoppers(pune, 4)
    for person in (a1, a2, a3, a4):
        person.age_band, person.gender = "18-24", "f"
        person.save()
    c1, c2, c3 = shoppers(ka, 3)
    b1, b2 = shoppers(ka, 2)
    product = ProductFactory(price_minor=49900, stock=50)

    notes = {s: message(s, "campaign", a.dedupe_key, t) for s in (a1, a2, a3, a4)}
    for s in (a1, a2):
        event(notes[s], "delivered", t, channel="webpush")
    for s in (a1, a2, a3):
        event(notes[s], "opened", t + dt.timedelta(minutes=5))
    for s in (a1, a2):
        event(notes[s], "clicked", t + dt.timedelta(minutes=5))
    event(notes[a4], "opted_out", t + dt.timedelta(minutes=6))
    make_order(region=pune, shopper=a1, placed_at=t + dt.timedelta(days=2),
               lines=[(product, 1, LineStatus.CONFIRMED)])
    make_order(region=pune, shopper=a1, placed_at=t + dt.timedelta(days=1),
               lines=[(product, 1, LineStatus.CANCELLED)])
    make_order(region=pune, shopper=a1, placed_at=t - dt.timedelta(days=1),
               lines=[(product, 1, LineStatus.CONFIRMED)])
    make_order(region=pune, shopper=a2, placed_at=t + dt.timedelta(days=8),
               lines=[(product, 1, LineStatus.CONFIRMED)])

    c_notes = {s: message(s, "campaign", c.dedupe_key, t) for s in (c1, c2, c3)}
    event(c_notes[c1], "clicked", t + dt.timedelta(hours=1))
    make_order(region=ka, shopper=c1, placed_at=t + dt.timedelta(hours=2),
               lines=[(product, 1, LineStatus.DELIVERED)])
    for s in (b1, b2):
        message(s, "campaign", b.dedupe_key, t)
    NotificationEvent.objects.create(shopper=b1, type="opted_out", channel="webpush",
                                     occurred_at=t + dt.timedelta(days=1))

    message(a1, "order_shipped", "order", t)
    for s in (a1, a2, a3):
        message(s, "back_in_stock", "stock", t)
    # An erased shopper's message: no shopper, no notification.
    NotificationEvent.objects.create(type="sent", kind="campaign", channel="inbox",
                                     occurred_at=t)
    # Outside the 28-day window.
    message(a1, "campaign", "campaign:old", now - dt.timedelta(days=40))
    analytics_refresh(now=now)
    return {"a": a, "b": b, "c": c}


def by_label(rows) -> dict:
    return {r.label: r for r in rows}


def test_each_campaign_counts_its_messages_taps_stops_and_orders_after_a_tap(built):
    snapshot_rows = notification_stats_get(snapshot=_served())
    rows = by_label(snapshot_rows["campaign"])
    a = rows[f"Diwali · 2026-12-01 · #{built['a'].pk}"]
    assert (a.shoppers, a.sent, a.delivered, a.opened, a.clicked, a.opted_out) == (
        4, 4, 2, 3, 2, 1)
    # a1's order 2 days after the tap; not the cancelled one, the earlier one
    # or a2's 8 days later.
    assert a.orders_after_click == 1
    assert (str(a.open_percent), str(a.click_percent), str(a.opt_out_percent)) == (
        "75.0", "50.0", "25.0")


def test_a_campaign_under_k_is_hidden_with_its_complement(built):
    rows = by_label(notification_stats_get(snapshot=_served())["campaign"])
    # B reached 2 (< 3); hidden alone it could be worked out from a total, so
    # the smallest shown campaign (C, 3 shoppers) goes with it.
    b = rows[f"Lamps · 2026-12-01 · #{built['b'].pk}"]
    c = rows[f"Pongal · 2026-12-01 · #{built['c'].pk}"]
    assert b.suppressed and c.suppressed
    assert b.sent is None and c.orders_after_click is None


def test_regions_roll_up_to_the_state_and_count_every_kind(built):
    rows = by_label(notification_stats_get(snapshot=_served())["region"])
    assert set(rows) == {"Maharashtra", "Karnataka"}
    mh, ka = rows["Maharashtra"], rows["Karnataka"]
    # Pune: 4 campaign + 1 order update + 3 back in stock sent; a4's stop.
    assert (mh.shoppers, mh.sent, mh.delivered, mh.opened, mh.clicked, mh.opted_out,
            mh.orders_after_click) == (4, 8, 2, 3, 2, 1, 1)
    # Karnataka: 3 + 2 campaign messages, c1's tap and order, b1's phone alerts off.
    assert (ka.shoppers, ka.sent, ka.clicked, ka.opted_out, ka.orders_after_click) == (
        5, 5, 1, 1, 1)


def test_age_band_and_gender_cells_count_like_the_regions(built):
    rows = by_label(notification_stats_get(snapshot=_served())["demographic"])
    assert set(rows) == {"18–24 · Female", "age not given · gender not given"}
    women, unknown = rows["18–24 · Female"], rows["age not given · gender not given"]
    # a1-a4 are the Pune shoppers; the Karnataka ones gave neither.
    assert (women.shoppers, women.sent, women.clicked, women.opted_out,
            women.orders_after_click) == (4, 8, 2, 1, 1)
    assert (unknown.shoppers, unknown.sent, unknown.orders_after_click) == (5, 5, 1)


def test_kinds_count_erased_shoppers_messages_and_hide_small_kinds(built):
    rows = by_label(notification_stats_get(snapshot=_served())["kind"])
    campaign = rows["Offers"]
    # 9 shoppers' messages and the erased shopper's; orders of a1 and c1.
    assert (campaign.shoppers, campaign.sent, campaign.clicked,
            campaign.orders_after_click) == (9, 10, 3, 2)
    # The order update (1 shopper) and the channel turned off (1) are under k;
    # together 2, so back in stock (3) is hidden with them.
    assert rows["Order shipped"].suppressed
    assert rows["all kinds (a channel turned off)"].suppressed
    assert rows["Back in stock"].suppressed


def test_the_page_and_exports_show_only_what_k_allows(client, built, staff_user):
    client.force_login(staff_user)
    page = client.get(PAGE).content.decode()
    assert "Diwali" in page and "too few to show" in page and "&lt;3" in page
    assert page.count("<svg") >= 2  # tap-rate bars of campaigns and regions
    campaigns = read_csv(client.get(export_url("notifications-campaign")))
    assert campaigns[0][:3] == ["campaign", "shoppers", "sent"]
    assert [row[0] for row in campaigns[1:]] == [f"Diwali · 2026-12-01 · #{built['a'].pk}"]
    assert campaigns[1][1:8] == ["4", "4", "2", "3", "2", "1", "1"]
    kinds = read_csv(client.get(export_url("notifications-kind")))
    assert [row[0] for row in kinds[1:]] == ["Offers"]


def test_sellers_and_staff_without_the_permission_get_403(client, built):
    client.force_login(SellerFactory().user)
    assert client.get(PAGE).status_code == 403
    assert client.get(export_url("notifications-region")).status_code == 403
    client.force_login(UserFactory(is_staff=True))
    assert client.get(PAGE).status_code == 403


def test_services_events_reach_the_figures(settings, client):
    """Sends, taps and a stop made through the services land in the next snapshot."""
    settings.PERSONALIZATION = {"K_THRESHOLD": 2}
    settings.NOTIFICATIONS = {"QUIET_HOURS": (0, 0)}
    region = RegionFactory(code="IN", name="India", kind=Region.Kind.COUNTRY)
    campaign = Campaign.objects.create(name="Sale", title="x", body="y",
                                       send_on=dt.date(2026, 12, 1))
    first, second = shoppers(region, 2)
    notes = [notification_services.notification_send(
        shopper=s, kind="campaign", title="Sale", body="Today", link="/",
        dedupe_key=campaign.dedupe_key) for s in (first, second)]
    notification_services.notification_click(shopper=first, notification_id=notes[0].pk)
    make_order(region=region, shopper=first, placed_at=timezone.now(),
               lines=[(ProductFactory(), 1, LineStatus.CONFIRMED)])
    notification_services.kind_stop(shopper=second, kind="campaign", notification_id=notes[1].pk)
    analytics_refresh(now=timezone.now() + dt.timedelta(seconds=1))
    row = notification_stats_get(snapshot=_served())["campaign"][0]
    assert (row.shoppers, row.sent, row.opened, row.clicked, row.opted_out,
            row.orders_after_click) == (2, 2, 1, 1, 1, 1)


def _served():
    return snapshot_active_get()
