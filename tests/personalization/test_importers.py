"""CSV import of shoppers and events: good files, bad files (line numbers, nothing written)."""

import io
from datetime import UTC, datetime

import pytest

from core.datasets import DatasetError
from personalization.importers import age_to_band, import_events, import_shoppers, parse_timestamp
from personalization.models import Event, ShopperProfile
from tests.factories import ProductFactory, RegionFactory, SellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def write(tmp_path):
    def write(name, text, encoding="utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
        return str(path)

    return write


@pytest.fixture
def regions():
    india = RegionFactory(code="IN", name="India")
    return {"IN": india}


def test_shoppers_are_imported_with_age_bands_never_raw_ages(write, regions):
    path = write("shoppers.csv", "id,region,age,gender,language\n"
                                 "S1,IN,23,f,hi\n"
                                 "S2,,55+,,\n"
                                 "S3,in,,X,EN\n")
    out = io.StringIO()

    count = import_shoppers(path, stdout=out)

    assert count == 3
    rows = {p.external_id: p for p in ShopperProfile.objects.all()}
    assert (rows["S1"].region, rows["S1"].age_band, rows["S1"].gender, rows["S1"].language) == (
        regions["IN"], "18-24", "f", "hi"
    )
    assert (rows["S2"].region, rows["S2"].age_band, rows["S2"].gender) == (None, "55+", "")
    assert (rows["S3"].region, rows["S3"].gender, rows["S3"].language) == (
        regions["IN"], "x", "en"
    )
    assert rows["S1"].first_seen_at is None  # never seen on this site yet
    assert "3 imported" in out.getvalue()


@pytest.mark.parametrize(("age", "band"), [
    ("13", "13-17"), ("17", "13-17"), ("18", "18-24"), ("24", "18-24"), ("25", "25-34"),
    ("44", "35-44"), ("54", "45-54"), ("55", "55+"), ("99", "55+"), ("35-44", "35-44"),
])
def test_age_in_years_or_a_band_becomes_a_band(age, band):
    assert age_to_band(age) == band


@pytest.mark.parametrize("age", ["12", "121", "-3", "thirty", "30-40", "2.5"])
def test_implausible_ages_are_refused(age):
    with pytest.raises(ValueError):
        age_to_band(age)


def test_bad_shopper_rows_are_reported_by_line_and_nothing_is_written(write, regions):
    path = write("shoppers.csv", "id,region,age,gender,language\n"
                                 "S1,IN,30,f,hi\n"
                                 "S2,ZZ,30,f,hi\n"
                                 "S3,IN,9,q,fr\n"
                                 ",IN,30,f,hi\n"
                                 "S1,IN,30,f,hi\n"
                                 "S5,IN,30\n")

    with pytest.raises(DatasetError) as raised:
        import_shoppers(path, stdout=io.StringIO())

    lines = [(e.line, e.message) for e in raised.value.errors]
    # Line 4's age 9 is not an error (see below); its gender and language are.
    assert [line for line, _m in lines] == [3, 4, 4, 5, 6, 7]
    assert "unknown region 'ZZ'" in lines[0][1]
    assert "gender 'q'" in lines[1][1]
    assert "already on line 2" in lines[4][1]
    assert "line 3:" in str(raised.value) and "nothing was imported" in str(raised.value)
    assert not ShopperProfile.objects.exists()


def test_a_shopper_under_13_is_imported_without_an_age_and_counted(write, regions):
    # Given a file where one of three shoppers is 9
    path = write("shoppers.csv", "id,region,age,gender,language\n"
                                 "S1,IN,30,f,hi\nS2,IN,9,f,hi\nS3,,12,,\n")
    out = io.StringIO()

    # When it is imported
    count = import_shoppers(path, stdout=out)

    # Then every row is in, the children without any age band, and the count is reported
    assert count == 3
    bands = dict(ShopperProfile.objects.values_list("external_id", "age_band"))
    assert bands == {"S1": "25-34", "S2": "", "S3": ""}
    assert "2 row(s) with an age under 13 imported without an age" in out.getvalue()


def test_iso_timestamps_from_any_year_are_accepted_but_small_numbers_are_not():
    latest = datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_timestamp("1997-09-20T04:32:15+00:00", latest=latest) == datetime(
        1997, 9, 20, 4, 32, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="milliseconds"):
        parse_timestamp("874729935", latest=latest)  # 1997 as seconds: probably a mistake
    with pytest.raises(ValueError, match="milliseconds"):
        parse_timestamp("1700000000000", latest=latest)


def test_reimporting_shoppers_updates_them_in_place(write, regions):
    import_shoppers(write("a.csv", "id,region,age,gender,language\nS1,IN,30,f,hi\n"))
    first = ShopperProfile.objects.get()

    import_shoppers(write("b.csv", "language,id,gender,age,region\n,S1,m,,\n"))

    again = ShopperProfile.objects.get()
    assert again.pk == first.pk and again.public_id == first.public_id
    assert (again.region, again.age_band, again.gender, again.language) == (None, "", "m", "")


@pytest.mark.parametrize("text", ["", "name,region\nS1,IN\n"])
def test_missing_header_or_columns_is_line_one(write, text):
    with pytest.raises(DatasetError) as raised:
        import_shoppers(write("s.csv", text))

    assert raised.value.errors[0].line == 1


def test_missing_file_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot open"):
        import_shoppers(str(tmp_path / "nope.csv"))


def test_non_utf8_file_is_reported_not_crashed(write):
    path = write("s.csv", "id,region,age,gender,language\nS1,,,,\nS\xe9,,,,\n", encoding="latin-1")

    with pytest.raises(DatasetError, match="UTF-8") as raised:
        import_shoppers(path)

    assert raised.value.errors[0].line == 3
    assert not ShopperProfile.objects.exists()


def test_spreadsheet_byte_order_mark_is_ignored(write):
    path = write("s.csv", "id,region,age,gender,language\nS1,,,,\n", encoding="utf-8-sig")

    assert import_shoppers(path) == 1


@pytest.fixture
def catalog_and_shoppers(write):
    p1, p2 = ProductFactory(external_id="P1"), ProductFactory(external_id="P2")
    import_shoppers(write("s.csv", "id,region,age,gender,language\nS1,,,,\nS2,,,,\n"))
    return p1, p2


def test_events_import_with_iso_and_unix_timestamps(write, catalog_and_shoppers):
    p1, p2 = catalog_and_shoppers
    path = write("e.csv", "shopper,product,type,timestamp\n"
                          "S1,P1,view,2026-03-01T10:00:00Z\n"
                          "S1,P2,purchase,1772359200\n"
                          "S2,P1,click,2026-03-01 12:30:00+05:30\n"
                          "S2,P1,hide,2026-03-02T08:00:00\n")
    out = io.StringIO()

    count = import_events(path, stdout=out)

    assert count == 4
    got = {(e.shopper.external_id, e.product_id, e.type): e.created_at
           for e in Event.objects.select_related("shopper")}
    assert got == {
        ("S1", p1.pk, "view"): datetime(2026, 3, 1, 10, tzinfo=UTC),
        ("S1", p2.pk, "purchase"): datetime(2026, 3, 1, 10, tzinfo=UTC),
        ("S2", p1.pk, "click"): datetime(2026, 3, 1, 7, tzinfo=UTC),
        ("S2", p1.pk, "hide"): datetime(2026, 3, 2, 8, tzinfo=UTC),
    }
    assert set(Event.objects.values_list("context", flat=True)) == {"import"}
    s1 = ShopperProfile.objects.get(external_id="S1")
    # Imported events count as visits and orders.
    assert s1.first_seen_at == s1.last_seen_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert (s1.orders_count, s1.lifecycle_stage) == (1, "dormant")
    assert "4 imported" in out.getvalue()


def test_reimporting_events_skips_exact_duplicates(write, catalog_and_shoppers):
    text = ("shopper,product,type,timestamp\n"
            "S1,P1,view,2026-03-01T10:00:00Z\n"
            "S1,P1,view,2026-03-01T10:00:00Z\n"
            "S1,P1,view,2026-03-01T10:05:00Z\n")

    first = import_events(write("e1.csv", text))
    second = import_events(write("e2.csv", text + "S2,P1,cart,1772359200\n"))

    assert (first, second) == (2, 1)
    assert Event.objects.count() == 3


def test_bad_event_rows_are_reported_by_line_and_nothing_is_written(write, catalog_and_shoppers):
    other_seller = SellerFactory()
    ProductFactory(external_id="P1", seller=other_seller)  # now ambiguous
    rows = ["S1,P2,view,2026-03-01T10:00:00Z"] * 3 + [
        "S9,P2,view,2026-03-01T10:00:00Z",
        "S1,P404,view,2026-03-01T10:00:00Z",
        "S1,P1,view,2026-03-01T10:00:00Z",
        "S1,P2,like,2026-03-01T10:00:00Z",
        "S1,P2,view,yesterday",
        "S1,P2,view,2999-01-01T00:00:00Z",
        "S1,P2,view,1772359200000",
        '"S1,P2","view"',
    ]
    path = write("e.csv", "shopper,product,type,timestamp\n" + "\n".join(rows) + "\n")

    with pytest.raises(DatasetError) as raised:
        import_events(path, stdout=io.StringIO())

    by_line = {e.line: e.message for e in raised.value.errors}
    assert sorted(by_line) == [5, 6, 7, 8, 9, 10, 11, 12]
    assert "unknown shopper 'S9'" in by_line[5]
    assert "unknown product 'P404'" in by_line[6]
    assert "several sellers" in by_line[7]
    assert "like" in by_line[8]
    assert "ISO 8601" in by_line[9]
    assert "future" in by_line[10]
    assert "future" in by_line[11] or "milliseconds" in by_line[11]
    assert "expected 4 fields" in by_line[12]
    assert not Event.objects.exists()


def test_small_batches_still_roll_back_as_a_whole(write, catalog_and_shoppers, settings):
    settings.PERSONALIZATION = {"IMPORT_BATCH_SIZE": 2}
    rows = [f"S1,P1,view,{1772359200 + i}" for i in range(7)] + ["S1,P1,view,nope"]
    path = write("e.csv", "shopper,product,type,timestamp\n" + "\n".join(rows) + "\n")

    with pytest.raises(DatasetError) as raised:
        import_events(path)

    assert [e.line for e in raised.value.errors] == [9]
    assert not Event.objects.exists()


def test_error_report_is_capped_but_counts_everything(write, catalog_and_shoppers):
    rows = ["S1,P1,view,nope"] * 120
    path = write("e.csv", "shopper,product,type,timestamp\n" + "\n".join(rows) + "\n")

    with pytest.raises(DatasetError) as raised:
        import_events(path)

    assert raised.value.total == 120
    assert len(raised.value.errors) == 50
    assert "and 70 more" in str(raised.value)


def test_imported_events_widen_but_never_narrow_the_visit_span(write, catalog_and_shoppers):
    seen_first = datetime(2026, 3, 5, tzinfo=UTC)
    seen_last = datetime(2026, 4, 1, tzinfo=UTC)
    ShopperProfile.objects.filter(external_id="S1").update(first_seen_at=seen_first,
                                                           last_seen_at=seen_last)
    path = write("e.csv", "shopper,product,type,timestamp\n"
                          "S1,P1,view,2026-03-01T10:00:00Z\n"
                          "S1,P1,view,2026-03-20T10:00:00Z\n")

    import_events(path)

    s1 = ShopperProfile.objects.get(external_id="S1")
    assert (s1.first_seen_at, s1.last_seen_at) == (datetime(2026, 3, 1, 10, tzinfo=UTC), seen_last)
    s2 = ShopperProfile.objects.get(external_id="S2")
    assert (s2.first_seen_at, s2.last_seen_at) == (None, None)  # not in this file
