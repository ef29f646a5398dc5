"""Cash on delivery remittances: per-seller statements, staff entry, isolation, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from orders.models import LineStatus
from sellers import services
from sellers.models import Remittance
from sellers.selectors import cash_statement_get
from tests.factories import UserFactory

from .conftest import collected_line, day

pytestmark = pytest.mark.django_db

STATEMENT = "/admin/sellers/remittance/statement/"
STATEMENT_CSV = "/admin/sellers/remittance/statement.csv"
REMITTANCES_CSV = "/admin/sellers/remittance/remittances.csv"
ADD = "/admin/sellers/remittance/add/"
LIST = "/admin/sellers/remittance/"


def remit(staff, seller, amount_minor, *, reference, paid_on=date(2025, 3, 6)):
    return services.remittance_record(actor=staff, seller=seller, amount_minor=amount_minor,
                                      currency="INR", paid_on=paid_on, reference=reference)


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def add_form(seller, **overrides) -> dict:
    return {"seller": seller.pk, "amount": "150.00", "currency": "INR",
            "paid_on": "2025-03-06", "reference": "UTR123456", "note": "", **overrides}


# --- what is owed ------------------------------------------------------------------------------


def test_statement_adds_up_collected_remitted_and_owed_by_day(cash, staff):
    asha = cash["asha"]
    remit(staff, asha, 25000, reference="UTR-1")

    statement = cash_statement_get(seller=asha, month=date(2025, 3, 1))

    (inr,) = statement.totals
    assert (inr.collected_minor, inr.remitted_minor, inr.owed_minor) == (50000, 25000, 25000)
    assert [(d.day.day, d.collected_minor, d.remitted_minor, d.owed_minor)
            for d in statement.days] == [(6, 0, 25000, 25000), (5, 20000, 0, 50000),
                                         (3, 30000, 0, 30000)]
    assert [r.reference for r in statement.remittances] == ["UTR-1"]


def test_a_later_month_opens_with_what_was_still_owed(cash, staff):
    remit(staff, cash["asha"], 10000, reference="UTR-1")
    collected_line(cash["regions"], cash["asha"], price_minor=5000, when=day(3).replace(month=4),
                   key="cash-key-a3")

    statement = cash_statement_get(seller=cash["asha"], month=date(2025, 4, 1))

    assert [(d.day, d.collected_minor, d.owed_minor) for d in statement.days] == [
        (date(2025, 4, 3), 5000, 50000 - 10000 + 5000)]


def test_returned_lines_cash_is_not_owed_and_delivered_unrecorded_cash_is_shown(cash):
    regions = cash["regions"]
    collected_line(regions, cash["asha"], price_minor=7000, when=day(7), key="cash-key-ret",
                   status=LineStatus.RETURNED)
    line = collected_line(regions, cash["asha"], price_minor=4000, when=day(8), key="cash-key-un")
    line.__class__.objects.filter(pk=line.pk).update(cod_collected_at=None,
                                                     cod_collected_minor=None)

    (inr,) = cash_statement_get(seller=cash["asha"], month=date(2025, 3, 1)).totals

    assert inr.collected_minor == 50000
    assert (inr.unrecorded_minor, inr.unrecorded_lines) == (4000, 1)


# --- staff record remittances ----------------------------------------------------------------


def test_staff_records_a_remittance_in_the_admin(client, cash, staff):
    client.force_login(staff)

    response = client.post(ADD, add_form(cash["asha"], amount="150.50", reference=" UTR  77 "))

    assert response.status_code == 302
    remittance = Remittance.objects.get()
    assert (remittance.seller, remittance.amount_minor, remittance.currency, remittance.reference,
            remittance.recorded_by) == (cash["asha"], 15050, "INR", "UTR 77", staff)
    body = client.get(f"{STATEMENT}?seller={cash['asha'].pk}&month=2025-03").content.decode()
    assert "UTR 77" in body and "₹349.50" in body
    page = client.get(f"{LIST}{remittance.pk}/change/").content.decode()
    assert "UTR 77" in page and "clerk" in page and "₹150.50" in page


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"amount": "0"}, "amount", "greater than or equal to 0.01"),
    ({"amount": "-5"}, "amount", "greater than or equal to 0.01"),
    ({"amount": "500.01"}, "amount", "more than the ₹500 owed"),
    ({"amount": "1.005"}, "amount", "2 decimal places"),
    ({"currency": "AED"}, "amount", "owed to this seller in AED"),
    ({"currency": "r1x"}, "currency", "three-letter"),
    ({"reference": "   "}, "reference", "required"),
    ({"paid_on": "2999-01-01"}, "paid_on", "future"),
    ({"paid_on": "31/02/2025"}, "paid_on", "valid date"),
])
def test_a_bad_remittance_is_a_form_error_and_writes_nothing(client, cash, staff, overrides,
                                                            field, message):
    client.force_login(staff)

    response = client.post(ADD, add_form(cash["asha"], **overrides))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert not Remittance.objects.exists()


def test_the_same_reference_twice_is_refused(client, cash, staff):
    remit(staff, cash["asha"], 1000, reference="UTR123456")
    client.force_login(staff)

    response = client.post(ADD, add_form(cash["asha"], reference="utr123456"))

    assert "already recorded" in " ".join(response.context["adminform"].form.errors["reference"])
    assert Remittance.objects.count() == 1


def test_two_remittances_together_cannot_pay_more_than_is_owed(cash, staff):
    remit(staff, cash["asha"], 40000, reference="UTR-1")

    with pytest.raises(ValidationError) as excinfo:
        remit(staff, cash["asha"], 10001, reference="UTR-2")

    assert "amount_minor" in excinfo.value.message_dict
    assert Remittance.objects.count() == 1


def test_only_staff_with_the_add_permission_record_remittances(cash):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_remittance"))

    for actor in (cash["asha"].user, viewer):
        with pytest.raises(PermissionDenied):
            remit(actor, cash["asha"], 100, reference=f"UTR-{actor.pk}")

    assert not Remittance.objects.exists()


def test_staff_who_may_only_view_see_statements_without_the_record_button(client, cash):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_remittance"))
    client.force_login(viewer)

    body = client.get(f"{STATEMENT}?seller={cash['asha'].pk}").content.decode()

    assert "What the shop owes you" in body and "Record a remittance" not in body
    assert client.post(ADD, add_form(cash["asha"])).status_code == 403


# --- sellers see their own cash only ------------------------------------------------------------


def test_seller_sees_their_own_statement(client, cash, staff):
    remit(staff, cash["asha"], 25000, reference="UTR-ASHA")
    remit(staff, cash["ravi"], 90000, reference="UTR-RAVI")
    client.force_login(cash["asha"].user)

    response = client.get(LIST, follow=True)
    assert response.redirect_chain[-1][0] == STATEMENT

    body = client.get(f"{STATEMENT}?month=2025-03").content.decode()
    assert "UTR-ASHA" in body and "Ravi" not in body and "UTR-RAVI" not in body
    assert "clerk" not in body  # staff's logins stay staff's
    assert "Record a remittance" not in body
    own = Remittance.objects.get(reference="UTR-ASHA")
    page = client.get(f"{LIST}{own.pk}/change/").content.decode()
    assert "UTR-ASHA" in page and "clerk" not in page


def test_seller_asking_for_another_sellers_statement_gets_a_404(client, cash, staff):
    remit(staff, cash["ravi"], 90000, reference="UTR-RAVI")
    client.force_login(cash["asha"].user)
    ravi = cash["ravi"].pk

    for url in (f"{STATEMENT}?seller={ravi}", f"{STATEMENT_CSV}?seller={ravi}",
                f"{REMITTANCES_CSV}?seller={ravi}", f"{STATEMENT}?seller=999999"):
        assert client.get(url).status_code == 404, url


def test_seller_cannot_open_or_add_remittances_by_url(client, cash, staff):
    theirs = remit(staff, cash["ravi"], 90000, reference="UTR-RAVI")
    client.force_login(cash["asha"].user)

    response = client.get(f"{LIST}{theirs.pk}/change/", follow=True)
    assert "UTR-RAVI" not in response.content.decode()
    assert client.get(f"{LIST}{theirs.pk}/history/").status_code in (302, 404)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, add_form(cash["asha"])).status_code == 403
    assert client.post(f"{LIST}{theirs.pk}/delete/", {"post": "yes"}).status_code in (302, 403)
    assert Remittance.objects.filter(pk=theirs.pk).exists()
    assert Remittance.objects.count() == 1


def test_seller_exports_only_their_own_payments(client, cash, staff):
    remit(staff, cash["asha"], 25000, reference="UTR-ASHA")
    remit(staff, cash["ravi"], 90000, reference="UTR-RAVI")
    client.force_login(cash["asha"].user)

    rows = rows_of(client.get(REMITTANCES_CSV))

    assert rows[0] == ["paid_on", "currency", "amount", "reference", "note", "recorded_at"]
    assert [r[:4] for r in rows[1:]] == [["2025-03-06", "INR", "250.00", "UTR-ASHA"]]


def test_csv_exports_defuse_formulas_in_references(client, cash, staff):
    remit(staff, cash["asha"], 100, reference='=HYPERLINK("http://evil.example")')
    client.force_login(cash["asha"].user)

    rows = rows_of(client.get(REMITTANCES_CSV))
    days = rows_of(client.get(f"{STATEMENT_CSV}?month=2025-03"))

    assert rows[1][3] == "'=HYPERLINK(\"http://evil.example\")"
    assert days[0] == ["day", "currency", "cash_collected", "remitted", "owed_at_end_of_day"]
    assert days[1:] == [["2025-03-03", "INR", "300.00", "0.00", "300.00"],
                        ["2025-03-05", "INR", "200.00", "0.00", "500.00"],
                        ["2025-03-06", "INR", "0.00", "1.00", "499.00"]]


@pytest.mark.parametrize("query", ["month=2025-13", "month=March", "month=2999-01",
                                   "seller=abc", "seller=0"])
def test_bad_statement_queries_are_a_400(client, cash, staff, query):
    client.force_login(staff)

    response = client.get(f"{STATEMENT}?{query}")

    assert response.status_code == 400
    assert ("month" in response.content.decode()) or ("seller" in response.content.decode())


def test_staff_without_a_seller_get_the_picker_and_csv_asks_for_one(client, cash, staff):
    client.force_login(staff)

    assert "Choose a seller" in client.get(STATEMENT).content.decode()
    assert client.get(REMITTANCES_CSV).status_code == 400


def test_shoppers_and_anonymous_visitors_reach_nothing(client, cash):
    assert client.get(STATEMENT).status_code == 302  # to the admin login
    client.force_login(UserFactory(username="plain", is_staff=True))
    assert client.get(STATEMENT).status_code == 403


# --- query counts ------------------------------------------------------------------------


def _many(cash, staff, n: int) -> None:
    for i in range(n):
        collected_line(cash["regions"], cash["asha"], price_minor=1000, when=day(1 + i % 28),
                       key=f"cash-many-{i:04d}")
    for i in range(n):
        remit(staff, cash["asha"], 100, reference=f"UTR-MANY-{i}",
              paid_on=date(2025, 3, 1 + i % 28))


@pytest.mark.parametrize("n", [2, 20])
def test_seller_statement_query_count_is_flat(client, cash, staff, django_assert_max_num_queries,
                                              n):
    _many(cash, staff, n)
    client.force_login(cash["asha"].user)
    # session, user, seller profile, line totals, remittance totals, days, remittances,
    # the user's and the group's permissions (the admin's app list)
    with django_assert_max_num_queries(9):
        assert client.get(f"{STATEMENT}?month=2025-03").status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_staff_statement_and_list_query_counts_are_flat(client, cash, staff,
                                                        django_assert_max_num_queries, n):
    _many(cash, staff, n)
    client.force_login(staff)
    # session, user, seller, line totals, remittance totals, days, remittances (+ who), picker
    with django_assert_max_num_queries(8):
        assert client.get(f"{STATEMENT}?seller={cash['asha'].pk}&month=2025-03").status_code == 200
    # session, user, count, count of all, page of rows (+ seller, recorded by), date hierarchy
    with django_assert_max_num_queries(8):
        assert client.get(LIST).status_code == 200


@pytest.mark.parametrize("n", [2, 20])
def test_remittances_csv_query_count_is_flat(client, cash, staff, django_assert_max_num_queries,
                                            n):
    _many(cash, staff, n)
    client.force_login(cash["asha"].user)
    # session, user, seller profile, the streamed remittances
    with django_assert_max_num_queries(4):
        assert len(rows_of(client.get(REMITTANCES_CSV))) == n + 1


def test_today_is_the_default_month(client, cash, staff):
    client.force_login(cash["asha"].user)
    body = client.get(STATEMENT).content.decode()
    assert timezone.localdate().strftime("%B %Y") in body
    assert "Next month" not in body


def test_cash_of_a_line_out_for_delivery_is_not_yet_collected_nor_owed(cash):
    # given a line out for delivery, its cash not taken yet
    line = collected_line(cash["regions"], cash["asha"], price_minor=6000, when=day(9),
                          key="cash-key-ofd")
    line.__class__.objects.filter(pk=line.pk).update(
        status=LineStatus.OUT_FOR_DELIVERY, cod_collected_at=None, cod_collected_minor=None)

    (inr,) = cash_statement_get(seller=cash["asha"], month=date(2025, 3, 1)).totals

    # then it is neither collected (owed to the seller) nor delivered-but-unrecorded
    assert inr.collected_minor == 50000 and inr.owed_minor == 50000
    assert (inr.unrecorded_minor, inr.unrecorded_lines) == (0, 0)
