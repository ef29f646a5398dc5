"""Seller sign-up from the storefront: apply, wait, be approved or refused, start selling."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from catalog.models import Seller
from core.throttle_cache import throttle_cache
from sellers import signup
from sellers.models import ApplicationStatus, SellerApplication
from tests.factories import ProductFactory, ProductImageFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Quartz-Mango-4471-river"
APPS = "/admin/sellers/sellerapplication/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    throttle_cache().clear()
    cache.clear()
    yield
    throttle_cache().clear()


def form(regions, **overrides) -> dict:
    return {"display_name": "Meena Handlooms", "phone": "098765 43210",
            "region": regions["IN-MH-PUN"].pk, "email": "", "password": PASSWORD,
            "terms": "on", **overrides}


def apply(client, regions, **overrides):
    return client.post("/sell/", form(regions, **overrides))


def sign_in(client, phone="98765 43210", password=PASSWORD):
    return client.post("/sell/status/", {"phone": phone, "password": password})


@pytest.fixture
def staff(db):
    return UserFactory(username="clerk", is_staff=True, is_superuser=True)


def test_the_page_offers_the_phone_first_form(client, regions):
    body = client.get("/sell/").content.decode()

    for name in ("display_name", "phone", "region", "email", "password", "terms"):
        assert f'name="{name}"' in body
    assert 'type="tel"' in body and "Pune" in body
    assert 'href="/sell/"' in client.get("/cart/").content.decode()  # linked from the footer


def test_applying_makes_a_pending_login_that_cannot_open_the_admin(client, regions):
    response = apply(client, regions)

    assert response.status_code == 302 and response["Location"] == "/sell/thanks/"
    application = SellerApplication.objects.select_related("user").get()
    assert (application.phone, application.status, application.display_name) == (
        "+919876543210", ApplicationStatus.PENDING, "Meena Handlooms")
    assert application.user.username == "+919876543210"
    assert not application.user.is_staff and application.user.check_password(PASSWORD)
    assert application.terms_version == signup.signup_setting("SELLER_TERMS_VERSION")
    assert not Seller.objects.exists()
    client.force_login(application.user)
    assert client.get("/admin/").status_code == 302  # to the admin's login


def test_applying_again_with_a_known_number_answers_the_same_and_writes_nothing(client,
                                                                                 regions):
    first = apply(client, regions)
    UserFactory(username="+971501234567")

    again = apply(client, regions, phone="+91 98765-43210", display_name="Someone else",
                  password="Other-Password-9931")
    staff_number = apply(client, regions, phone="+971 50 123 4567",
                         region=regions["AE-DU"].pk)

    assert first["Location"] == again["Location"] == staff_number["Location"] == "/sell/thanks/"
    assert (first.status_code, again.status_code, staff_number.status_code) == (302, 302, 302)
    assert SellerApplication.objects.count() == 1
    assert get_user_model().objects.count() == 2
    assert SellerApplication.objects.get().user.check_password(PASSWORD)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"phone": "12345"}, "phone", "mobile number like +91"),
    ({"phone": "+971501234567"}, "phone", "from this country (+91)"),
    ({"terms": ""}, "terms", "Accept the seller terms"),
    ({"password": "12345678"}, "password", "entirely numeric"),
    ({"password": "98765 43210"}, "password", ""),
    ({"region": ""}, "region", "required"),
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"display_name": " x "}, "display_name", "2 to 100"),
])
def test_bad_applications_show_field_errors_and_write_nothing(client, regions, overrides, field,
                                                             message):
    response = apply(client, regions, **overrides)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not SellerApplication.objects.exists()
    assert not get_user_model().objects.exists()


def test_sign_ups_are_throttled_per_connection(client, regions, settings):
    settings.SELLER_SIGNUP_LIMIT = 2
    assert apply(client, regions, terms="").status_code == 400
    assert apply(client, regions, phone="12").status_code == 400

    response = apply(client, regions)

    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode()
    assert not SellerApplication.objects.exists()


def test_the_applicant_signs_in_and_sees_the_pending_state(client, regions):
    apply(client, regions)

    wrong = sign_in(client, password="Not-The-Password-1")
    assert wrong.status_code == 400 and "do not match" in wrong.content.decode()
    unknown = sign_in(client, phone="91234 56789")
    assert unknown.content.decode().count("do not match") == 1
    response = sign_in(client, phone="+91 98765 43210")

    assert response.status_code == 302
    body = client.get("/sell/status/").content.decode()
    assert "Waiting for review" in body and "Meena Handlooms" in body


def test_other_logins_cannot_use_the_status_page_to_probe(client, regions, staff):
    staff.set_password(PASSWORD)
    staff.save()

    response = client.post("/sell/status/", {"phone": "clerk", "password": PASSWORD})

    assert response.status_code == 400 and "do not match" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_approval_makes_a_seller_who_lands_on_a_checklist(client, regions, staff):
    apply(client, regions)
    application = SellerApplication.objects.get()
    client.force_login(staff)

    client.post(APPS, {"action": "approve", "_selected_action": [application.pk]})

    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.decided_by == staff and application.seller is not None
    seller = Seller.objects.select_related("user").get()
    assert seller.user == application.user and seller.user.is_staff
    assert seller.user.groups.filter(name="Sellers").exists()
    assert (seller.display_name, seller.phone, seller.region) == (
        "Meena Handlooms", "+919876543210", regions["IN-MH-PUN"])

    client.logout()
    sign_in(client)
    assert "Approved: you can start selling" in client.get("/sell/status/").content.decode()
    index = client.get("/admin/").content.decode()
    assert "Get started" in index and "Add your first listing" in index
    assert client.get("/admin/catalog/product/add/").status_code == 200


def test_the_checklist_ticks_off_and_then_goes_away(client, regions, staff):
    apply(client, regions)
    signup.seller_application_approve(actor=staff,
                                      application_id=SellerApplication.objects.get().pk)
    seller = Seller.objects.get()
    client.force_login(seller.user)
    product = ProductFactory(seller=seller, stock=0)

    body = client.get("/admin/").content.decode()
    assert "<s>Add your first listing</s>" in body and "Set the stock" in body

    ProductImageFactory(product=product)
    product.__class__.objects.filter(pk=product.pk).update(stock=3)
    assert "Get started" not in client.get("/admin/").content.decode()


def test_refusal_asks_for_a_reason_and_the_applicant_reads_it(client, regions, staff):
    apply(client, regions)
    application = SellerApplication.objects.get()
    client.force_login(staff)

    step = client.post(APPS, {"action": "refuse", "_selected_action": [application.pk]})
    assert step.status_code == 200 and "Reason, shown to the applicant" in step.content.decode()
    short = client.post(APPS, {"action": "refuse", "_selected_action": [application.pk],
                               "apply": "1", "reason": "no"})
    assert short.status_code == 200
    assert SellerApplication.objects.get().status == ApplicationStatus.PENDING
    client.post(APPS, {"action": "refuse", "_selected_action": [application.pk], "apply": "1",
                       "reason": "We could not reach you on this number."})

    application.refresh_from_db()
    assert (application.status, application.reason) == (
        ApplicationStatus.REFUSED, "We could not reach you on this number.")
    assert not Seller.objects.exists()
    client.logout()
    sign_in(client)
    body = client.get("/sell/status/").content.decode()
    assert "Refused" in body and "could not reach you" in body
    assert client.get("/admin/").status_code == 302


def test_a_decision_is_taken_once(client, regions, staff):
    apply(client, regions)
    application = SellerApplication.objects.get()
    signup.seller_application_approve(actor=staff, application_id=application.pk)
    client.force_login(staff)

    response = client.post(APPS, {"action": "approve", "_selected_action": [application.pk]},
                           follow=True)

    assert "already approved" in response.content.decode()
    assert Seller.objects.count() == 1


def test_only_staff_with_the_permission_decide_and_sellers_never_see_applications(client,
                                                                                  regions):
    apply(client, regions)
    application = SellerApplication.objects.get()
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sellerapplication"))
    with pytest.raises(PermissionDenied):
        signup.seller_application_approve(actor=viewer, application_id=application.pk)
    with pytest.raises(PermissionDenied):
        signup.seller_application_refuse(actor=application.user, application_id=application.pk,
                                         reason="Because I say so")

    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    signup.seller_application_approve(actor=boss, application_id=application.pk)
    client.force_login(Seller.objects.get().user)
    assert client.get(APPS).status_code == 403
    assert client.get(f"{APPS}{application.pk}/change/").status_code in (302, 403)
    assert "Meena" not in client.get("/admin/").content.decode().split("Get started")[0]


@pytest.mark.parametrize("n", [2, 20])
def test_the_applications_list_query_count_is_flat(client, regions, staff,
                                                   django_assert_max_num_queries, n):
    for i in range(n):
        apply(client, regions, phone=f"98765 4{i:04d}", display_name=f"Shop {i}")
        throttle_cache().clear()
    assert SellerApplication.objects.count() == n
    client.force_login(staff)
    # session, user, count, count of all, rows + region + decided by
    with django_assert_max_num_queries(5):
        assert client.get(APPS).status_code == 200


@pytest.mark.parametrize(("language", "title", "button"), [
    ("hi", "दुकान पर बेचें", "बेचने के लिए आवेदन करें"),
    ("ar", "بِع في المتجر", "قدّم طلب البيع"),
])
def test_the_sign_up_page_speaks_hindi_and_arabic(client, regions, settings, language, title,
                                                  button):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    body = client.get("/sell/").content.decode()

    assert title in body and button in body


def test_staff_read_an_application_without_being_able_to_type_over_it(client, regions, staff):
    apply(client, regions, email="meena@example.com")
    application = SellerApplication.objects.get()
    client.force_login(staff)

    page = client.get(f"{APPS}{application.pk}/change/").content.decode()
    client.post(f"{APPS}{application.pk}/change/", {"status": "approved", "reason": "typed"})

    assert "+919876543210" in page and "meena@example.com" in page
    assert 'name="status"' not in page
    assert SellerApplication.objects.get().status == ApplicationStatus.PENDING
