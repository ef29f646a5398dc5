"""The admin login throttle: slow guessing, and no way to lock someone else out.

Limits in these tests are the defaults: 5 failures per (account, client),
20 per client, past 10 per account the account is slowed to one attempt per
30 s for clients it has not seen sign in.
"""

import pytest
from django.test import Client

from core.login_guard import DEVICE_COOKIE
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def seller_user(db):
    user = UserFactory(username="asha", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def attempt(client, username, password, ip="10.0.0.1", **extra):
    return client.post("/admin/login/", {"username": username, "password": password},
                       REMOTE_ADDR=ip, **extra)


def test_five_failures_lock_that_client_out_of_that_account(client, seller_user):
    for _ in range(5):
        assert attempt(client, "asha", "nope").status_code == 200  # the login form again
    response = attempt(client, "asha", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 900
    assert "_auth_user_id" not in client.session


def test_failures_from_one_client_never_lock_the_owner_on_another(seller_user):
    # given an attacker at 10.0.0.66 who spent its five guesses on the seller's account
    attacker, owner = Client(), Client()
    for _ in range(6):
        attempt(attacker, "asha", "nope", ip="10.0.0.66")
    assert attempt(attacker, "asha", PASSWORD, ip="10.0.0.66").status_code == 429
    # when the owner signs in from their own address
    response = attempt(owner, "asha", PASSWORD, ip="10.0.0.7")
    # then they are in
    assert response.status_code == 302
    assert owner.session["_auth_user_id"] == str(seller_user.pk)


def test_past_the_account_ceiling_the_account_is_slowed_not_locked(seller_user, settings,
                                                                   monkeypatch):
    # given 10 failures on the account from 10 addresses (a distributed guesser)
    for i in range(10):
        attempt(Client(), "asha", "nope", ip=f"10.0.1.{i}")
    # when two new clients try at once, only one gets the account's slot
    first = attempt(Client(), "asha", "nope", ip="10.0.2.1")
    second = attempt(Client(), "asha", PASSWORD, ip="10.0.2.2")
    assert first.status_code == 200 and second.status_code == 429
    assert int(second["Retry-After"]) == 30
    # then after the documented slow-down (the slot expires) the owner signs in
    from core.login_guard import _account
    from core.throttle_cache import throttle_cache

    throttle_cache().delete(f"login-slot:{_account('asha')}")  # 30 s have passed
    owner = Client()
    assert attempt(owner, "asha", PASSWORD, ip="10.0.2.2").status_code == 302


def test_a_browser_that_signed_in_before_is_not_slowed_by_the_ceiling(seller_user):
    # given the owner's browser, which signed in once and carries the device cookie
    owner = Client()
    assert attempt(owner, "asha", PASSWORD, ip="10.0.0.7").status_code == 302
    assert DEVICE_COOKIE in owner.cookies
    owner.post("/admin/logout/")
    # and a distributed guesser who took the account past its ceiling and its slot
    for i in range(12):
        attempt(Client(), "asha", "nope", ip=f"10.0.1.{i}")
    attempt(Client(), "asha", "nope", ip="10.0.2.1")
    # when the owner signs in again from that browser, then there is no wait
    assert attempt(owner, "asha", PASSWORD, ip="10.0.0.7").status_code == 302


def test_a_forged_device_cookie_buys_nothing(seller_user):
    for i in range(12):
        attempt(Client(), "asha", "nope", ip=f"10.0.1.{i}")
    attempt(Client(), "asha", "nope", ip="10.0.2.1")
    forger = Client()
    forger.cookies[DEVICE_COOKIE] = "asha"
    assert attempt(forger, "asha", PASSWORD, ip="10.0.2.9").status_code == 429


def test_one_client_spraying_many_accounts_is_refused(client, db):
    for i in range(20):
        attempt(client, f"someone{i}", "nope")
    assert attempt(client, "another", "nope").status_code == 429


def test_a_forged_x_forwarded_for_does_not_reset_the_client_limit(client, db):
    # No trusted proxies: the header is never read, every guess is the same client.
    for i in range(20):
        attempt(client, f"someone{i}", "nope", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    response = attempt(client, "another", "nope", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_each_client_gets_its_own_count(seller_user, settings):
    # given nginx at 10.9.0.1 forwarding two clients' requests
    settings.SHOP_TRUSTED_PROXIES = ["10.9.0.1"]
    for _ in range(6):
        attempt(Client(), "asha", "nope", ip="10.9.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    # then the guesser is locked out but the owner behind the same proxy is not
    assert attempt(Client(), "asha", PASSWORD, ip="10.9.0.1",
                   HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert attempt(Client(), "asha", PASSWORD, ip="10.9.0.1",
                   HTTP_X_FORWARDED_FOR="198.51.100.20").status_code == 302


def test_under_the_limit_the_right_password_signs_in(client, seller_user):
    for _ in range(4):
        attempt(client, "asha", "nope")
    response = attempt(client, "asha", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(seller_user.pk)


def test_other_accounts_from_other_ips_are_unaffected(client, seller_user):
    ravi = UserFactory(username="ravi", is_staff=True)
    ravi.set_password(PASSWORD)
    ravi.save()
    for _ in range(6):
        attempt(client, "asha", "nope", ip="10.0.0.1")
    assert attempt(Client(), "ravi", PASSWORD, ip="10.0.0.2").status_code == 302
