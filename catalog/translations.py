"""Listings in the shopper's language: which fields are translated, and the fallback.

A listing is written once (`title`, `description`, in whatever language the
seller writes) and may carry the same text in the shop's other languages
(`title_hi`, `description_ar`, ...). Whatever shows a listing asks
`listing_text(obj, "title", language)`: the text in that language when there
is one, else the original. `obj` is anything with those attributes (a
Product, a card row).
"""

from __future__ import annotations

# The languages a listing may be translated into (settings.LANGUAGES minus
# the default): one column per language and field, so adding a language is a
# migration, and the search index and the card row name these columns.
LISTING_LANGUAGES = ("hi", "ar")
TRANSLATED_FIELDS = ("title", "description")


def translated_names(field: str) -> tuple[str, ...]:
    """Return the column names of `field` in every listing language: ("title_hi", ...)."""
    return tuple(f"{field}_{language}" for language in LISTING_LANGUAGES)


def listing_language(language: str | None) -> str | None:
    """Return the listing language of an active language ("hi-in" -> "hi"), else None."""
    base = (language or "").split("-")[0].lower()
    return base if base in LISTING_LANGUAGES else None


def listing_text(obj, field: str, language: str | None) -> str:
    """Return `field` of `obj` in `language` when translated, else the original."""
    base = listing_language(language)
    if base is not None:
        translated = getattr(obj, f"{field}_{base}", "")
        if translated:
            return translated
    return getattr(obj, field)
