"""CSV exports that are safe to open in a spreadsheet, streamed row by row.

Any app's download goes through here, so the formula defusing is one rule:
a text cell that Excel, LibreOffice or Sheets would run as a formula gets a
leading quote (OWASP's CSV injection advice).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence

# A cell starting with one of these is a formula to Excel, LibreOffice and
# Sheets (tab and carriage return too, per OWASP's CSV injection advice).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """Return `value` with a leading quote if, as text, a spreadsheet would run it."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file-like whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Yield CSV text: the header, then each row with every text cell defused."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_safe(value) for value in row])
