"""Habit nudges: one a week by lifecycle stage, only to shoppers who can receive a push."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import services
from notifications.habit import habit_nudges_send
from notifications.models import Notification
from personalization.services import shopper_create

from .conftest import NOON_IST
from .test_api import AUTH, P256DH

pytestmark = pytest.mark.django_db


def profile(stage, *, subscribed=True, language=""):
    shopper = shopper_create()
    shopper.lifecycle_stage = stage
    shopper.language = language
    shopper.save()
    if subscribed:
        services.push_subscribe(shopper=shopper, endpoint=f"https://push.example.net/{shopper.pk}",
                                p256dh=P256DH, auth=AUTH)
    return shopper


def test_each_stage_gets_its_nudge_once_a_week(db):
    dormant = profile("dormant")
    forming = profile("forming", language="hi")
    profile("habit")  # habit formed: no nudge
    profile("dormant", subscribed=False)  # could never see it
    first = habit_nudges_send(now=NOON_IST)
    assert len(first) == 2
    assert habit_nudges_send(now=NOON_IST + dt.timedelta(days=1)) == []  # same week
    titles = dict(Notification.objects.values_list("shopper_id", "title"))
    assert titles == {dormant.pk: "We miss you", forming.pk: "आपके लिए नए सुझाव"}
    assert len(habit_nudges_send(now=NOON_IST + dt.timedelta(days=7))) == 2
