"""`manage.py create_seller`: a seller login in one command, clear errors otherwise."""

import io
import os
import sys

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


def _pipe_stdin(monkeypatch, text: str) -> None:
    """Make sys.stdin a real OS pipe holding `text`, as `echo ... | manage.py` gives."""
    read_fd, write_fd = os.pipe()
    with os.fdopen(write_fd, "w") as writer:
        writer.write(text)
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_fd))


def test_create_seller_reads_a_piped_password_with_password_stdin(monkeypatch):
    monkeypatch.delenv("SELLER_PASSWORD", raising=False)
    _pipe_stdin(monkeypatch, f" {PASSWORD} \r\nignored second line\n")

    call_command("create_seller", "piped", "--email", "p@example.com",
                 "--display-name", "Piped", "--password-stdin", stdout=io.StringIO())

    # Only the line break belongs to the pipe; the spaces are the password's.
    assert get_user_model().objects.get(username="piped").check_password(f" {PASSWORD} ")


def test_create_seller_password_stdin_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("SELLER_PASSWORD", "the-environment-one-77")
    _pipe_stdin(monkeypatch, PASSWORD + "\n")

    call_command("create_seller", "piped", "--email", "p@example.com",
                 "--display-name", "Piped", "--password-stdin", stdout=io.StringIO())

    assert get_user_model().objects.get(username="piped").check_password(PASSWORD)


def test_create_seller_refuses_an_empty_pipe(monkeypatch):
    _pipe_stdin(monkeypatch, "")

    with pytest.raises(CommandError, match=r"standard input was empty \(line 1\)"):
        call_command("create_seller", "piped", "--email", "p@example.com",
                     "--display-name", "Piped", "--password-stdin")

    assert not get_user_model().objects.exists()


def test_create_seller_password_stdin_refuses_a_terminal(monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)

    with pytest.raises(CommandError, match="not a terminal"):
        call_command("create_seller", "piped", "--email", "p@example.com",
                     "--display-name", "Piped", "--password-stdin")

    assert not get_user_model().objects.exists()


def test_create_seller_refuses_two_password_sources(monkeypatch):
    _pipe_stdin(monkeypatch, PASSWORD + "\n")

    with pytest.raises(CommandError, match="either --password or --password-stdin"):
        call_command("create_seller", "piped", "--email", "p@example.com",
                     "--display-name", "Piped", "--password", PASSWORD, "--password-stdin")

    assert not get_user_model().objects.exists()


def test_create_seller_with_a_pipe_but_no_flag_names_the_ways_to_give_it(monkeypatch):
    monkeypatch.delenv("SELLER_PASSWORD", raising=False)
    _pipe_stdin(monkeypatch, PASSWORD + "\n")

    with pytest.raises(CommandError, match=r"\$SELLER_PASSWORD.*--password-stdin"):
        call_command("create_seller", "piped", "--email", "p@example.com",
                     "--display-name", "Piped")

    assert not get_user_model().objects.exists()
