"""A seller's bulk upload: the limits, and the ZIP of photos sent with the CSV.

The CSV is the products format of `import_dataset` (catalog/importers.py)
read by the same row validator, with the seller implied. What is new here is
the ZIP, which comes from anyone with a seller login, so it is treated as
hostile and refused as a whole, before any row is looked at, when:
- it is not a ZIP, is larger than `ZIP_MAX_BYTES`, or holds more than
  `ZIP_MAX_ENTRIES` members;
- the declared uncompressed sizes add up to more than `ZIP_MAX_TOTAL_BYTES`,
  or one member expands more than `ZIP_MAX_RATIO` times (photos barely
  compress; a member that does is a zip bomb) or is bigger than a photo may be;
- a name is absolute, goes up a folder (`..`), holds a backslash or a control
  character, or appears twice; a member is a symlink, encrypted, another
  archive (by name or by its first bytes), or not a JPEG, PNG or WebP photo
  (by name and by the image pipeline's header check).
Nothing is ever extracted to disk: members are read into memory, at most
their declared size (a member whose data is longer or shorter than declared
is refused), so a name could not escape a folder even if one got through.
`__MACOSX/` folders and `.DS_Store` files, which macOS adds to every ZIP it
makes, are skipped rather than refused.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.conf import settings

from . import images

MB = 1024 * 1024
DEFAULTS = {
    "CSV_MAX_BYTES": 5 * MB,
    "MAX_ROWS": 5000,
    # Under the admin's 64 MB request ceiling (core/request_limits.py) with the CSV.
    "ZIP_MAX_BYTES": 50 * MB,
    "ZIP_MAX_ENTRIES": 2000,
    "ZIP_MAX_TOTAL_BYTES": 300 * MB,
    "ZIP_MAX_RATIO": 20,
}
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
ARCHIVE_EXTENSIONS = (".zip", ".jar", ".apk", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z",
                      ".rar", ".zst", ".cab", ".iso", ".lz", ".lzma", ".z")
# First bytes of the archive and compressed formats people (and attackers) nest.
ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08", b"\x1f\x8b", b"BZh",
                 b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd",
                 b"MSCF")
# A member this small cannot be a bomb whatever its ratio (a flat test image).
RATIO_FLOOR_BYTES = 256 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_SKIPPED = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$)")


def bulk_limits() -> dict:
    """Return the bulk upload limits: settings.SHOP_BULK_UPLOAD over DEFAULTS, read at call time."""
    return {**DEFAULTS, **getattr(settings, "SHOP_BULK_UPLOAD", {})}


class NoPhotos:
    """The photo source of an upload without a ZIP: any `image` cell is an error."""

    ok = True
    problems: list[str] = []

    def locate(self, name: str) -> str:
        raise ValueError(f"photo {name!r} is named but no ZIP of photos was sent with the file")

    def problem(self, key: str) -> str | None:
        return None

    def open(self, key: str):
        raise FileNotFoundError(key)


class ZipPhotos:
    """The photos of a seller's ZIP, checked as a whole when opened (see the module docstring).

    `problems` lists what is wrong with the archive; when it is not empty the
    upload is refused and no member may be read.
    """

    def __init__(self, fp: BinaryIO, *, limits: dict | None = None) -> None:
        self.limits = limits or bulk_limits()
        self.image_limits = images.Limits.from_settings()
        self.problems: list[str] = []
        self.members: dict[str, zipfile.ZipInfo] = {}
        self._by_basename: dict[str, list[str]] = {}
        self._zip: zipfile.ZipFile | None = None
        try:
            self._zip = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            self.problems.append("the photos file is not a ZIP archive")
            return
        self._inspect()

    @property
    def ok(self) -> bool:
        return not self.problems

    def _inspect(self) -> None:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits["ZIP_MAX_ENTRIES"]:
            self.problems.append(f"the ZIP holds {len(infos):,} files; at most "
                                 f"{limits['ZIP_MAX_ENTRIES']:,} are allowed")
            return
        declared = sum(info.file_size for info in infos)
        if declared > limits["ZIP_MAX_TOTAL_BYTES"]:
            self.problems.append(f"the ZIP would expand to {declared // MB:,} MB; at most "
                                 f"{limits['ZIP_MAX_TOTAL_BYTES'] // MB:,} MB are allowed")
            return
        for info in infos:
            name = info.filename
            if info.is_dir() or _SKIPPED.search(name):
                continue
            problem = self._member_problem(info)
            if problem is not None:
                self.problems.append(f"{_shown(name)}: {problem}")
                continue
            if name in self.members:
                self.problems.append(f"{_shown(name)}: appears twice in the ZIP")
                continue
            self.members[name] = info
            self._by_basename.setdefault(name.rsplit("/", 1)[-1].lower(), []).append(name)

    def _member_problem(self, info: zipfile.ZipInfo) -> str | None:
        """Return why member `info` is refused, or None; reads it (capped) to check its bytes."""
        name = info.filename
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            return "the name holds control characters"
        if name.startswith(("/", "\\")) or _DRIVE.match(name):
            return "an absolute path; put the photos at the top of the ZIP or in a folder"
        if "\\" in name:
            return "the name holds a backslash"
        if ".." in name.split("/"):
            return "the name goes up a folder (..)"
        if stat.S_ISLNK(info.external_attr >> 16):
            return "a symbolic link, not a photo"
        if info.flag_bits & 0x1:
            return "encrypted; send the ZIP without a password"
        lowered = name.lower()
        if lowered.endswith(ARCHIVE_EXTENSIONS):
            return "an archive inside the archive; put the photos themselves in the ZIP"
        if not lowered.endswith(PHOTO_EXTENSIONS):
            return "not a photo: only JPEG, PNG and WebP files may be in the ZIP"
        if info.file_size > self.image_limits.max_bytes:
            return (f"{info.file_size // MB:,} MB when unpacked; a photo may be at most "
                    f"{self.image_limits.max_bytes // MB:,} MB")
        if (info.file_size > RATIO_FLOOR_BYTES
                and info.file_size > self.limits["ZIP_MAX_RATIO"] * max(info.compress_size, 1)):
            return "compressed far more than any photo can be (a zip bomb?)"
        try:
            data = self._read(info)
        except ValueError as exc:
            return str(exc)
        if data.startswith(ARCHIVE_MAGIC):
            return "an archive inside the archive; put the photos themselves in the ZIP"
        try:
            images.open_validated(data, limits=self.image_limits, decode=False)
        except images.ImageRejected as exc:
            return exc.message
        return None

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        """Return the bytes of member `info`: exactly its declared size, or ValueError."""
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError, ValueError) as exc:
            raise ValueError(f"cannot be unpacked ({exc})") from None
        if len(data) != info.file_size:
            raise ValueError("its size does not match the ZIP's directory")
        return data

    # --- PhotoSource (catalog.importers) ---------------------------------------------------

    def locate(self, name: str) -> str:
        """Return the member an `image` cell names: the exact path, or a unique file name."""
        wanted = name.removeprefix("./")
        if wanted in self.members:
            return wanted
        matches = self._by_basename.get(wanted.rsplit("/", 1)[-1].lower(), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ValueError(f"photo {name!r} matches several files in the ZIP "
                             f"({', '.join(sorted(matches)[:3])}); write its folder too")
        raise ValueError(f"photo {name!r} is not in the ZIP")

    def problem(self, key: str) -> str | None:
        return None  # every member was checked when the ZIP was opened

    @contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        yield io.BytesIO(self._read(self.members[key]))


def _shown(name: str) -> str:
    """Return a member name safe and short enough to show in the admin."""
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return repr(printable[:80] + ("…" if len(printable) > 80 else ""))
