"""Every string a shopper reads on the storefront pages has a Hindi and an Arabic translation.

The strings are found the way makemessages finds them (Django's templatize
for the templates, the gettext calls of the storefront's Python), so a new
`{% translate %}` without its catalogue entries fails here, not on a
shopper's phone. A translation equal to the English ("COD" left as "COD")
counts as missing, unless listed below as the same in that language.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
SOURCES = [*sorted((ROOT / "templates" / "storefront").glob("*.html")),
           ROOT / "templates" / "base.html", *sorted((ROOT / "storefront").glob("*.py"))]
# Written the same in that language (symbols and formats, not words).
SAME = {"hi": set(), "ar": set()}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        literals = [arg.value for arg in node.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if name in ("gettext", "_", "gettext_lazy") and literals:
            yield literals[0], None
        elif name in ("ngettext", "ngettext_lazy") and len(literals) >= 2:
            yield literals[0], literals[1]


# What templatize writes for {% translate %} and {% blocktranslate [count] %}.
_TEMPLATE_CALL = re.compile(r"\b(n?gettext)\(u'((?:[^'\\]|\\.)*)'(?:, u'((?:[^'\\]|\\.)*)')?")


def shopper_strings() -> set[tuple[str, str | None]]:
    found = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".html":
            for name, singular, plural in _TEMPLATE_CALL.findall(templatize(text)):
                literal = ast.literal_eval(f"'{singular}'")
                found.add((literal, ast.literal_eval(f"'{plural}'") if name == "ngettext"
                           else None))
        else:
            found.update(_calls(ast.parse(text)))
    return found


def test_the_storefront_strings_are_found():
    strings = {singular for singular, _plural in shopper_strings()}
    assert {"COD", "Add to cart", "Out of stock", "Search", "Sold by %(seller)s",
            "Only %(n)s left"} <= strings


@pytest.mark.parametrize("language", ["hi", "ar"])
def test_every_storefront_string_is_translated(language):
    missing = []
    with translation.override(language):
        for singular, plural in sorted(shopper_strings(), key=lambda s: s[0]):
            shown = (translation.gettext(singular) if plural is None
                     else translation.ngettext(singular, plural, 5))
            english = singular if plural is None else plural
            if shown == english and singular not in SAME[language]:
                missing.append(singular)
    assert missing == []
