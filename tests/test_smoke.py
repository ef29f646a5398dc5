import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.factories import make_products


@pytest.mark.django_db
def test_healthz_and_readyz_answer(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_feed_lists_active_products(client):
    products = make_products(3)
    body = client.get("/").content.decode()
    for product in products:
        assert product.title in body


def test_settings_refuse_to_start_without_a_secret_key_when_not_debugging(monkeypatch):
    import importlib

    import shop.settings as shop_settings

    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        importlib.reload(shop_settings)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "x" * 50)
    importlib.reload(shop_settings)
