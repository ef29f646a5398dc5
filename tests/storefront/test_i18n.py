"""Hindi and Arabic catalogs: complete, placeholders intact, compiled, used by the pages."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import make_products

LOCALE = Path(settings.BASE_DIR) / "locale"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
LANGUAGES = ("hi", "ar")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(chunks: list[str]) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), "".join(chunks))


def po_entries(language: str) -> list[dict]:
    """Return the .po entries as dicts: msgid, msgid_plural, msgstr (list), flags."""
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = []
    for block in text.split("\n\n")[1:]:
        entry: dict = {"msgstr": [], "flags": ""}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = line
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                if key.startswith("msgstr"):
                    entry["msgstr"].append([match.group(2)])
                else:
                    entry[key] = [match.group(2)]
            elif line.startswith('"') and key:
                target = entry["msgstr"][-1] if key.startswith("msgstr") else entry[key]
                target.append(line[1:-1])
        if "msgid" in entry:
            entry["msgid"] = _unquote(entry["msgid"])
            if "msgid_plural" in entry:
                entry["msgid_plural"] = _unquote(entry["msgid_plural"])
            entry["msgstr"] = [_unquote(chunks) for chunks in entry["msgstr"]]
            entries.append(entry)
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete_and_keeps_every_placeholder(language):
    entries = po_entries(language)
    assert len(entries) > 100
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert entry["msgstr"] and all(entry["msgstr"]), f"untranslated: {entry['msgid']}"
        wanted = set(_PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for form in entry["msgstr"]:
            # Plural forms for 0/1/2 may spell the number out; all others keep it.
            assert set(_PLACEHOLDER.findall(form)) <= wanted, (entry["msgid"], form)
        if "msgid_plural" not in entry:
            assert set(_PLACEHOLDER.findall(entry["msgstr"][0])) == wanted, entry["msgid"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalog_matches_its_source(language):
    # The .mo files are committed, so a machine without gettext still serves
    # translations; this keeps them in step with the .po files.
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    for entry in po_entries(language):
        if "msgctxt" in entry:
            continue
        if "msgid_plural" in entry:
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) in entry["msgstr"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


def test_every_storefront_template_string_is_in_the_catalogs():
    pattern = re.compile(r'{% (?:translate|trans) "([^"]+)"|{% (?:translate|trans) \'([^\']+)\'')
    wanted = set()
    for path in [TEMPLATES / "base.html", *(TEMPLATES / "storefront").glob("*.html")]:
        for double, single in pattern.findall(path.read_text(encoding="utf-8")):
            wanted.add(double or single)
    assert "Load more" in wanted
    for language in LANGUAGES:
        known = {entry["msgid"] for entry in po_entries(language)}
        assert wanted - known == set(), language


@pytest.mark.django_db
def test_arabic_feed_is_arabic_and_right_to_left(client):
    make_products(25)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "عرض المزيد" in html and "Load more" not in html
    assert "\u200f499\u00a0₹" in html


@pytest.mark.django_db
def test_hindi_feed_is_hindi(client):
    make_products(25)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="hi").content.decode()
    assert '<html lang="hi" dir="ltr">' in html
    assert "और दिखाएँ" in html and "₹499" in html
