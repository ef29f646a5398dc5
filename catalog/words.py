"""What a searched word is, shared by the search (catalog/search.py) and the
synonym rows staff type (catalog.models.SearchSynonym), so both cut text alike.

A word is letters, digits and combining marks (Unicode L, N, M): Devanagari
vowel signs and the nukta are marks, and splitting at them (Python's `\\w`,
FTS5's default tokenizer) cut "साड़ी" into "स" and "ड". Text is NFC-normalised
and lower-cased; Arabic short vowels and the tatweel are dropped (optional in
writing, and shoppers rarely type them).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

MAX_TERMS = 8
MAX_TERM_LENGTH = 40

# Arabic short vowels, shadda, sukun, superscript alef and the tatweel (a
# stretching stroke): optional in writing, so never part of a searched word.
_ARABIC_OPTIONAL = re.compile("[\u0640\u064b-\u065f\u0670]")


def words(text: str) -> list[str]:
    """Return the words of `text`, normalised, in order."""
    text = _ARABIC_OPTIONAL.sub("", unicodedata.normalize("NFC", text).lower())
    found, current = [], []
    for char in text:
        if unicodedata.category(char)[0] in "LNM":
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    # A word cannot start with a mark (a stray vowel sign typed after a space).
    cleaned = []
    for word in found:
        start = 0
        while start < len(word) and unicodedata.category(word[start])[0] == "M":
            start += 1
        if word[start:]:
            cleaned.append(word[start:])
    return cleaned


def search_terms(query: str) -> list[str]:
    """Return the searchable words of `query`: normalised, lower-cased, capped."""
    return [word[:MAX_TERM_LENGTH] for word in words(query)[:MAX_TERMS]]


def synonym_words_parse(text: str) -> list[str]:
    """Return the words of a synonym row (comma, `|` or line separated), normalised as
    queries are; raise ValueError naming the first entry that is not one word."""
    parsed: list[str] = []
    for entry in re.split(r"[,|\n]", text):
        if not entry.strip():
            continue
        terms = words(entry)
        if len(terms) != 1:
            raise ValueError(_("“%(entry)s” is not one word: separate words with commas.")
                             % {"entry": entry.strip()})
        if len(terms[0]) > MAX_TERM_LENGTH:
            raise ValueError(_("“%(entry)s” is longer than %(max)d letters.")
                             % {"entry": entry.strip(), "max": MAX_TERM_LENGTH})
        if terms[0] not in parsed:
            parsed.append(terms[0])
    if not parsed:
        raise ValueError(_("Enter at least one word."))
    return parsed
