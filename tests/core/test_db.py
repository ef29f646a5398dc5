"""CompiledQuery: the same rows as the ORM, for new values, on every backend."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product
from core.db import _FALLBACK, CompiledQuery
from personalization.models import Event, ShopperProfile
from personalization.selectors import _history_queryset
from personalization.selectors_profiles import shopper_get
from personalization.services import shopper_create_anonymous, shopper_from_token
from tests.factories import RegionFactory, make_products

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=123456)


def _history_events(shopper, products):
    rows = [Event(shopper=shopper, product=products[0], type="click",
                  created_at=NOW - timedelta(hours=1)),
            Event(shopper=shopper, product=products[1], type="hide",
                  created_at=NOW - timedelta(days=400)),
            Event(shopper=shopper, product=products[2], type="view", context="feed",
                  created_at=NOW - timedelta(minutes=5)),
            Event(shopper=shopper, product=products[2], type="cart",
                  created_at=NOW - timedelta(days=200))]
    Event.objects.bulk_create(rows)


def test_compiled_history_equals_the_querysets_rows_for_new_values_each_call():
    # given two shoppers with clicks, an old hide, an impression and an old cart
    products = make_products(3)
    first, second = ShopperProfile.objects.create(), ShopperProfile.objects.create()
    _history_events(first, products)
    _history_events(second, products[::-1])
    compiled = CompiledQuery(lambda limit, **values: _history_queryset(limit=limit, **values))
    for shopper, as_of in ((first, NOW), (second, NOW), (first, NOW - timedelta(hours=2))):
        values = {"shopper_id": shopper.pk, "as_of": as_of,
                  "since": as_of - timedelta(days=90)}
        # when read compiled (the second shopper reuses the first one's statement)
        with CaptureQueriesContext(connection) as queries:
            rows = compiled.rows(alias="default", shape=50, **values)
        # then the rows, datetimes included, are the ORM's, in one query
        assert rows == list(_history_queryset(limit=50, **values))
        assert len(queries) == 1
    assert rows and rows[0][2].tzinfo is not None
    # and it really ran compiled, not through the ORM fallback
    assert compiled._statements() and _FALLBACK not in compiled._statements().values()


def test_a_value_that_lands_twice_falls_back_to_the_orm_and_stays_right():
    products = make_products(3, stock=5)

    def build(_shape, value):
        return Product.objects.filter(Q(pk=value) | Q(stock=value)).order_by("pk") \
            .values_list("pk")

    compiled = CompiledQuery(build)
    for value in (products[0].pk, 5):
        assert compiled.rows(alias="default", value=value) == list(build((), value))
    assert compiled.rows(alias="default", value=5) == sorted((p.pk,) for p in products)


def test_a_comparison_django_would_drop_for_a_stand_in_is_not_compiled_away():
    # Django leaves a comparison with an out-of-range integer out of the SQL;
    # the stand-ins must not be such values, or the real one would be ignored.
    products = make_products(2)
    Product.objects.filter(pk=products[0].pk).update(stock=7)
    Product.objects.filter(pk=products[1].pk).update(stock=3)
    compiled = CompiledQuery(
        lambda _shape, low: Product.objects.filter(stock__gte=low).order_by("pk")
        .values_list("pk")
    )
    assert compiled.rows(alias="default", low=5) == [(products[0].pk,)]
    assert compiled.rows(alias="default", low=1) == [(products[0].pk,), (products[1].pk,)]


def test_model_instances_are_refused_only_rows_are_compiled():
    compiled = CompiledQuery(lambda _shape, value: Product.objects.filter(pk=value))
    with pytest.raises(TypeError):
        compiled.rows(alias="default", value=1)


def test_unsupported_values_and_row_shapes_are_refused():
    compiled = CompiledQuery(lambda _shape, value: Product.objects.filter(price_minor=value)
                             .values_list("pk"))
    with pytest.raises(TypeError):
        compiled.rows(alias="default", value=Decimal("4.99"))
    flat = CompiledQuery(lambda _shape, value: Product.objects.filter(pk=value)
                          .values_list("pk", flat=True))
    with pytest.raises(TypeError):
        flat.rows(alias="default", value=1)


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_profile_lookups_by_cookie_and_token_load_the_region_with_the_profile():
    # given a shopper with a region, and an API token
    region = RegionFactory(code="IN-KA", name="Karnataka")
    shopper, token = shopper_create_anonymous()
    ShopperProfile.objects.filter(pk=shopper.pk).update(region=region, age_band="25-34")
    expected = ShopperProfile.objects.select_related("region").get(pk=shopper.pk)
    # when it is looked up by cookie id and by token
    for _ in range(2):
        by_id = shopper_get(public_id=str(shopper.public_id))
        by_token = shopper_from_token(token)
        # then both are the saved profile, region already loaded
        for found in (by_id, by_token):
            assert _fields(found) == _fields(expected)
            assert found._state.adding is False and found._state.db == "default"
        with CaptureQueriesContext(connection) as queries:
            assert by_id.region.code == "IN-KA"
        assert len(queries) == 0
    assert shopper_get(public_id="00000000-0000-0000-0000-000000000000") is None
    assert shopper_from_token("not-a-token") is None


def test_sqlite_json_support_is_true_even_while_another_connection_holds_the_write_lock(
        tmp_path):
    """Django's own probe runs in a write transaction: under a held lock it would
    say False for the connection's life and every card query would be a 500."""
    import sqlite3

    from django.db.backends.sqlite3.base import DatabaseWrapper

    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")
    wrapper = DatabaseWrapper({
        "NAME": str(path), "ENGINE": "django.db.backends.sqlite3", "TIME_ZONE": None,
        "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False, "USER": "", "PASSWORD": "", "HOST": "", "PORT": "",
        "OPTIONS": {"timeout": 0.05, "transaction_mode": "IMMEDIATE"}, "TEST": {},
    }, alias="locked")
    try:
        wrapper.ensure_connection()
        assert wrapper.features.supports_json_field is True
        # The write transaction Django's own probe opens fails here.
        from django.db import OperationalError

        with pytest.raises(OperationalError, match="locked"):
            wrapper.cursor().execute("BEGIN IMMEDIATE")
    finally:
        wrapper.close()
        holder.execute("ROLLBACK")
        holder.close()
