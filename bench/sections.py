"""Rewrite one `## ` section of docs/BENCHMARKS.md, leaving the others alone.

Every bench step owns one section; this is the one way to replace it (or
append it the first time), so steps cannot clobber each other's figures.
"""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def write_section(title: str, section: str, doc: Path = DOC) -> None:
    """Replace the section starting with the line `title` by `section` (which starts with it)."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section.rstrip("\n") + "\n\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    doc.write_text(text)
