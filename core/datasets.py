"""The error type shared by every CSV importer (catalog and personalization).

Importers collect every bad row rather than stopping at the first, so a
merchant fixes the whole file in one go; the command turns this into a
CommandError listing the line numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Report at most this many row errors; a wholly wrong file would otherwise
# print a million lines.
MAX_REPORTED_ERRORS = 50


@dataclass
class RowError:
    line: int  # 1-based line number in the file, the header being line 1
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class DatasetError(Exception):
    """Raised when a file cannot be imported; nothing from it was written."""

    path: str
    errors: list[RowError] = field(default_factory=list)
    total: int | None = None  # how many errors in all, when more than reported

    def __str__(self) -> str:
        total = self.total if self.total is not None else len(self.errors)
        lines = [f"{self.path}: {total} error(s); nothing was imported from this file."]
        lines += [f"  {error}" for error in self.errors[:MAX_REPORTED_ERRORS]]
        if total > MAX_REPORTED_ERRORS:
            lines.append(f"  ... and {total - MAX_REPORTED_ERRORS} more")
        return "\n".join(lines)


class RowErrors:
    """Collect one file's row errors: the first MAX_REPORTED_ERRORS in full, the rest counted."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.reported: list[RowError] = []
        self.total = 0

    def add(self, line: int, message: str) -> None:
        self.total += 1
        if len(self.reported) < MAX_REPORTED_ERRORS:
            self.reported.append(RowError(line, message))

    def raise_if_any(self) -> None:
        """Raise DatasetError if any row was bad: the caller then writes nothing."""
        if self.total:
            raise DatasetError(self.path, errors=self.reported, total=self.total)
