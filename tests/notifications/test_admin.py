"""Staff see messages and edit segment caps; sellers see none of it."""

from __future__ import annotations

import pytest

from notifications import services
from notifications.models import Kind, SegmentCap
from tests.factories import SellerFactory, UserFactory

from .conftest import NOON_IST

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_add_a_segment_cap_and_bad_keys_are_form_errors(staff_client):
    response = staff_client.post("/admin/notifications/segmentcap/add/", {
        "segment_key": "rg:IN-MH:f", "daily_cap": 3, "weekly_cap": 12, "note": "low tolerance"})
    assert response.status_code == 302
    assert SegmentCap.objects.get().daily_cap == 3
    bad = staff_client.post("/admin/notifications/segmentcap/add/", {
        "segment_key": "pune", "daily_cap": 9, "weekly_cap": 2})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert "Use a segment key such as" in html
    assert "A week allows at least a day" in html
    assert SegmentCap.objects.count() == 1


def test_staff_read_messages(staff_client, shopper):
    services.notification_send(shopper=shopper, kind=Kind.ORDER_SHIPPED, title="Shipped!",
                               body="b", dedupe_key="x", now=NOON_IST)
    assert "Shipped!" in staff_client.get("/admin/notifications/notification/").content.decode()
    assert staff_client.get("/admin/notifications/notificationevent/").status_code == 200


def test_sellers_see_no_notifications(client, shopper):
    seller = SellerFactory()
    seller.user.is_superuser = False
    seller.user.save()
    client.force_login(seller.user)
    for path in ("notification", "notificationevent", "segmentcap", "campaign"):
        assert client.get(f"/admin/notifications/{path}/").status_code == 403
