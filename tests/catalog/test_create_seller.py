"""`manage.py create_seller`: a seller login in one command, clear errors otherwise."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from catalog.models import Seller
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-Passphrase-42"


def test_create_seller_makes_a_login_that_can_use_the_admin(client):
    RegionFactory(code="IN")

    call_command("create_seller", "ravi", "--email", "ravi@example.com",
                 "--display-name", "Ravi Steel", "--region", "in", "--phone", "+91 9",
                 "--password", PASSWORD, stdout=(out := io.StringIO()))

    seller = Seller.objects.select_related("user", "region").get()
    assert (seller.user.username, seller.display_name, seller.region.code, seller.phone) == (
        "ravi", "Ravi Steel", "IN", "+91 9"
    )
    assert "Created seller 'Ravi Steel'" in out.getvalue()
    assert client.login(username="ravi", password=PASSWORD)
    assert client.get("/admin/catalog/product/").status_code == 200


def test_create_seller_reads_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("SELLER_PASSWORD", PASSWORD)

    call_command("create_seller", "meena", "--email", "m@example.com",
                 "--display-name", "Meena", "--noinput", stdout=io.StringIO())

    assert get_user_model().objects.get(username="meena").check_password(PASSWORD)


def test_create_seller_without_a_password_and_no_terminal_fails_clearly(monkeypatch):
    monkeypatch.delenv("SELLER_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="--password"):
        call_command("create_seller", "meena", "--email", "m@example.com",
                     "--display-name", "Meena", "--noinput")

    assert not get_user_model().objects.exists()


def test_create_seller_prompts_for_the_password_on_a_terminal(monkeypatch):
    import sys

    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.delenv("SELLER_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    call_command("create_seller", "tara", "--email", "t@example.com",
                 "--display-name", "Tara", stdout=io.StringIO())

    assert get_user_model().objects.get(username="tara").check_password(PASSWORD)


def test_create_seller_refuses_an_unknown_region():
    with pytest.raises(CommandError, match="region: no region with the code 'XX'"):
        call_command("create_seller", "ravi", "--email", "ravi@example.com",
                     "--display-name", "Ravi", "--region", "XX", "--password", PASSWORD)

    assert not Seller.objects.exists()


def test_create_seller_lists_every_bad_field_and_writes_nothing():
    UserFactory(username="ravi")

    with pytest.raises(CommandError) as excinfo:
        call_command("create_seller", "ravi", "--email", "nope", "--display-name", " ",
                     "--password", "123")

    message = str(excinfo.value)
    for field in ("username:", "email:", "password:", "display_name:"):
        assert field in message
    assert get_user_model().objects.count() == 1
    assert not Seller.objects.exists()
