"""The inline SVG charts and the CSV defusing, without a database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from analytics import svg
from core.exports import csv_safe

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, made in the test


@pytest.mark.parametrize("chart", [
    lambda: svg.sparkline([3, 0, 7, 2], label="Events per day"),
    lambda: svg.bar_chart([("Impressions", 670), ("Clicks", 177)], label="Funnel"),
    lambda: svg.heatmap([("2026-11-02", [Decimal("12.5"), Decimal("0.0")]),
                         ("2026-11-09", [None, None])], columns=["≥1", "≥2"],
                        label="Cohorts", hidden_text="<20"),
])
def test_charts_are_accessible_scalable_and_legible_on_a_phone(chart):
    root = parse(chart())
    assert root.get("role") == "img" and root.get("aria-label")
    title = root.find(f"{NS}title")
    assert title is not None and title.text == root.get("aria-label")
    assert root.get("aria-labelledby") == title.get("id")
    # Drawn on a 360-unit-wide canvas at 100% width: about 1 unit per px on a
    # 360 px phone, so 14-unit text renders at >= 12 px.
    assert root.get("viewBox").startswith("0 0 360 ") and root.get("width") == "100%"
    assert int(root.get("font-size")) >= 14
    assert not list(root.iter(f"{NS}script"))


def test_chart_text_is_escaped():
    markup = str(svg.bar_chart([("<script>alert(1)</script>", 3)], label='a "quoted" & <b>'))
    assert "<script>" not in markup
    root = parse(markup)  # still well-formed XML
    assert root.find(f"{NS}title").text == 'a "quoted" & <b>'
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "<script>alert(1)</script>" in texts


def test_bar_lengths_follow_the_values():
    root = parse(svg.bar_chart([("a", 100), ("b", 50), ("c", 0)], label="x"))
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect")]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[2] <= 1


def test_heatmap_hides_suppressed_rows_and_writes_every_share():
    markup = str(svg.heatmap([("big", [Decimal("55.4"), Decimal("30.8")]),
                              ("small", [None, None])], columns=["≥1", "≥2"], label="c",
                             hidden_text="<20"))
    texts = [t.text for t in parse(markup).iter(f"{NS}text")]
    assert "55.4%" in texts and "30.8%" in texts
    assert texts.count("<20") == 2
    assert not re.search(r">\s*None", markup)


def test_sparkline_with_no_values_says_so():
    texts = [t.text for t in parse(svg.sparkline([], label="x")).iter(f"{NS}text")]
    assert texts == ["no data"]


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+1", "'+1"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("Kurta", "Kurta"), ("", ""), (42, 42), ("a=b", "a=b"),
])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value, expected):
    assert csv_safe(value) == expected
