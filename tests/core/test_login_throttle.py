import pytest

from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def seller_user(db):
    return UserFactory(username="asha", is_staff=True)


def attempt(client, username, password, ip="10.0.0.1", **extra):
    return client.post("/admin/login/", {"username": username, "password": password},
                       REMOTE_ADDR=ip, **extra)


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(client, seller_user):
    for _ in range(5):
        assert attempt(client, "asha", "nope").status_code == 200  # the login form again
    response = attempt(client, "asha", PASSWORD)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_account_limit_holds_across_ips(client, seller_user):
    for i in range(5):
        attempt(client, "asha", "nope", ip=f"10.0.1.{i}")
    assert attempt(client, "asha", PASSWORD, ip="10.0.9.9").status_code == 429


def test_a_forged_x_forwarded_for_does_not_reset_the_ip_limit(client, seller_user):
    for i in range(5):
        attempt(client, f"someone{i}", "nope", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}")
    response = attempt(client, "another", "nope", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429


def test_under_the_limit_the_right_password_signs_in(client, seller_user):
    for _ in range(4):
        attempt(client, "asha", "nope")
    response = attempt(client, "asha", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(seller_user.pk)


def test_other_accounts_from_other_ips_are_unaffected(client, seller_user):
    UserFactory(username="ravi", is_staff=True)
    for _ in range(6):
        attempt(client, "asha", "nope", ip="10.0.0.1")
    assert attempt(client, "ravi", PASSWORD, ip="10.0.0.2").status_code == 302
