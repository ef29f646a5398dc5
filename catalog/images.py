"""The image pipeline: validate an upload, sanitise it, and encode its variants.

Pure functions on bytes and Pillow images; no ORM and no storage, so the
service layer decides where the results go (local files or S3) and the tests
can check every rule without a database.

The rules, and why:
- Only JPEG, PNG and WebP are opened (an explicit allowlist): every other
  decoder Pillow ships (PSD, TIFF, EPS through Ghostscript, ...) is attack
  surface we do not need.
- Sizes are checked on the declared dimensions *before* decoding, side by side
  (never as a tuple comparison, which lets 1000x10 pass), so a decompression
  bomb is refused before it can allocate gigabytes.
- The whole file is decoded with truncated images refused, and the container
  must end where the image ends: a PNG with HTML after IEND or a JPEG with a
  payload after EOI is a polyglot and is refused.
- The upload is never stored: the master is re-encoded from pixels (EXIF
  orientation applied, converted to sRGB, every metadata block dropped), so
  GPS coordinates in a seller's photo never reach a shopper.
"""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import warnings
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

# The default already, set here on purpose: a truncated upload must be an
# error, and no other module may silently turn this check off for us.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow's own names for the formats we accept. MPO is how Pillow reports a
# JPEG that carries extra frames (some phone cameras write them); its first
# frame is an ordinary JPEG.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
_OPENED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}

# Encoder settings, chosen with bench/steps/20-images on photographic content:
# a typical 320w thumbnail lands well under the 20 KB budget in AVIF and WebP
# while keeping edges and textures clean on a phone screen. AVIF speed 8 halves
# the CPU of speed 6 (0.18 s against 0.34 s per demo photo with all its
# variants) for about 9% more bytes at 320w (3.0 KB against 2.7 KB): seeding the
# demo shop on a fresh machine and every seller's upload wait on this.
AVIF_OPTIONS = {"quality": 50, "speed": 8, "subsampling": "4:2:0"}
WEBP_OPTIONS = {"quality": 72, "method": 4}
# The budget is a promise, not an average: a photo full of fine texture (grass,
# a printed fabric, held upright so its 320w is 320x427) can need 28 KB at the
# qualities above. Such a variant is re-encoded down this ladder until it
# fits; ordinary photos never leave the first step.
AVIF_QUALITY_LADDER = (50, 42, 34, 26)
WEBP_QUALITY_LADDER = (72, 62, 52, 42, 32)
# Bytes allowed for a 320w AVIF or WebP variant (DESIGN.md: <= 20 KB, kept
# with a margin); other widths get the same bytes per pixel of width squared.
BYTES_AT_320 = 18 * 1024
# Progressive JPEGs are smaller and paint early on a slow connection.
JPEG_OPTIONS = {"quality": 78, "optimize": True, "progressive": True, "subsampling": "4:2:0"}
# The master is the source of every later regeneration: high quality, full
# chroma, so regenerating variants does not compound losses.
MASTER_JPEG_OPTIONS = {"quality": 90, "optimize": True, "subsampling": "4:4:4"}
MASTER_WEBP_OPTIONS = {"quality": 90, "method": 4, "exact": False}
EXTENSIONS = {"avif": "avif", "webp": "webp", "jpeg": "jpg"}
PIL_FORMATS = {"avif": "AVIF", "webp": "WEBP", "jpeg": "JPEG"}

# Hex digits of SHA-256 kept in file names: 80 bits is far beyond any
# accidental collision, and every srcset URL on a feed page carries one, so
# each digit saved is a byte saved per URL on a paid connection.
NAME_HASH_LENGTH = 20
# The LQIP is this many pixels on its longest side: ~100-300 bytes as WebP.
LQIP_SIDE = 16
WHITE = (255, 255, 255)


class ImageRejected(ValueError):
    """An upload the pipeline will not accept; `message` is meant for the seller."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Limits:
    """What an upload may be. Built from settings by `Limits.from_settings()`."""

    max_bytes: int
    max_pixels: int
    max_side: int = 12_000
    min_side: int = 160
    max_aspect: float = 5.0

    @classmethod
    def from_settings(cls) -> Limits:
        """Return the limits configured in Django settings (read at call time)."""
        from django.conf import settings

        widths = getattr(settings, "SHOP_IMAGE_WIDTHS", (160,))
        return cls(
            max_bytes=settings.SHOP_UPLOAD_MAX_BYTES,
            max_pixels=settings.SHOP_IMAGE_MAX_PIXELS,
            max_side=getattr(settings, "SHOP_IMAGE_MAX_SIDE", cls.max_side),
            # Smaller than the narrowest variant would leave a card without an image.
            min_side=getattr(settings, "SHOP_IMAGE_MIN_SIDE", min(widths)),
            max_aspect=getattr(settings, "SHOP_IMAGE_MAX_ASPECT", cls.max_aspect),
        )


@dataclass(frozen=True)
class EncodedImage:
    """One encoded file: a master or a variant."""

    data: bytes
    format: str  # "avif" | "webp" | "jpeg"
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    # `folder` keeps each owner's files apart (products/, reviews/): each app's
    # clean-up only ever walks and deletes names under its own folder.
    def master_name(self, folder: str = "products") -> str:
        """Return the storage name of this file as a master."""
        digest = self.sha256[:NAME_HASH_LENGTH]
        return f"{folder}/masters/{digest[:2]}/{digest}.{self.extension}"

    def variant_name(self, folder: str = "products") -> str:
        """Return the immutable storage name of this file as a variant."""
        digest = self.sha256[:NAME_HASH_LENGTH]
        return f"{folder}/v/{digest[:2]}/{digest}-{self.width}.{self.extension}"

    def as_variant(self, folder: str = "products") -> dict:
        """Return the record kept in ProductImage.variants."""
        return {
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "name": self.variant_name(folder),
            "bytes": len(self.data),
        }


@dataclass(frozen=True)
class Rendition:
    """Everything derived from one master: variants and placeholder."""

    variants: list[EncodedImage]
    placeholder_color: str
    placeholder_data: str


@dataclass(frozen=True)
class ProcessedImage:
    master: EncodedImage
    rendition: Rendition


# --- Reading and validating ---------------------------------------------------------


def read_upload(fp: BinaryIO, *, max_bytes: int) -> bytes:
    """Return the bytes of `fp`, refusing more than `max_bytes` without reading them all."""
    if hasattr(fp, "seek"):
        fp.seek(0)
    data = fp.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageRejected(
            _("The file is larger than %(limit)s MB. Upload a smaller photo.")
            % {"limit": _format_mb(max_bytes)},
            code="too_large",
        )
    return data


def open_validated(data: bytes, *, limits: Limits, decode: bool = True) -> Image.Image:
    """Return the fully decoded image in `data`, or raise ImageRejected saying why not.

    With `decode=False` every check but the decode itself runs (format,
    declared size, trailing payloads): a header read, cheap enough for a web
    request; truncated or corrupt pixel data is only found by the decode.
    """
    if not data:
        raise ImageRejected(_("The file is empty."), code="empty")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            _("The file is larger than %(limit)s MB. Upload a smaller photo.")
            % {"limit": _format_mb(limits.max_bytes)},
            code="too_large",
        )
    with warnings.catch_warnings():
        # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; a bomb
        # must be an error, whatever our own limit is set to. (The filter is
        # process-global, so under threads it is a second line only: the
        # declared-size check below runs before any decoding either way.)
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError:
            raise _unsupported(data) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limits) from None
        except Exception as exc:
            # Pillow's parsers raise SyntaxError, struct.error, ValueError,
            # OSError... on malformed headers; all of them mean the same to a seller.
            raise _corrupt() from exc
        if img.format not in _OPENED_FORMATS:
            raise _unsupported(data)
        if getattr(img, "is_animated", False) and img.format != "MPO":
            raise ImageRejected(
                _("Animated images are not accepted. Upload a still photo."), code="animated"
            )
        _check_dimensions(*img.size, limits=limits)
        _check_container(data, img.format)
        if not decode:
            return img
        try:
            img.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limits) from None
        except Exception as exc:
            raise _corrupt() from exc
    return img


def validate_upload(fp: BinaryIO, *, limits: Limits) -> None:
    """Raise ImageRejected unless `fp` is an image the pipeline accepts."""
    open_validated(read_upload(fp, max_bytes=limits.max_bytes), limits=limits)


def _check_dimensions(width: int, height: int, *, limits: Limits) -> None:
    # Each side on its own: a tuple comparison would let 1000x10 through.
    if width <= 0 or height <= 0:
        raise _corrupt()
    if width * height > limits.max_pixels:
        raise _too_many_pixels(limits, width=width, height=height)
    if width > limits.max_side or height > limits.max_side:
        raise ImageRejected(
            _("The photo is %(w)s×%(h)s pixels; no side may be longer than %(max)s pixels.")
            % {"w": width, "h": height, "max": limits.max_side},
            code="too_long_side",
        )
    if width < limits.min_side or height < limits.min_side:
        raise ImageRejected(
            _("The photo is too small (%(w)s×%(h)s pixels). Upload one at least %(min)s "
              "pixels on each side.") % {"w": width, "h": height, "min": limits.min_side},
            code="too_small",
        )
    if max(width, height) > min(width, height) * limits.max_aspect:
        raise ImageRejected(
            _("The photo is %(w)s×%(h)s pixels: too long and thin. Crop it so the long side is "
              "at most %(ratio)s times the short side.")
            % {"w": width, "h": height, "ratio": f"{limits.max_aspect:g}"},
            code="bad_aspect_ratio",
        )


def _too_many_pixels(limits: Limits, *, width: int = 0, height: int = 0) -> ImageRejected:
    megapixels = f"{limits.max_pixels / 1_000_000:g}"
    if width and height:
        message = _(
            "The photo is %(w)s×%(h)s pixels, more than the %(mp)s megapixels allowed. "
            "Upload a smaller photo."
        ) % {"w": width, "h": height, "mp": megapixels}
    else:
        message = _("The photo has more than the %(mp)s megapixels allowed. Upload a smaller "
                    "photo.") % {"mp": megapixels}
    return ImageRejected(message, code="too_many_pixels")


def _corrupt() -> ImageRejected:
    return ImageRejected(
        _("The file is damaged or incomplete and cannot be read as a photo. Upload it again."),
        code="corrupt",
    )


# Signatures of formats people commonly try, so the error can name what it saw.
_KNOWN_SIGNATURES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%!PS", "PostScript (EPS)"),
    (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"),
    (b"%PDF", "PDF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "icon (ICO)"),
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}


def _detected_kind(data: bytes) -> str | None:
    for signature, kind in _KNOWN_SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "HEIC"
        if brand in {b"avif", b"avis"}:
            return "AVIF"
    head = data[:1024].lstrip().lower()
    if head.startswith(b"<"):
        return "SVG" if b"<svg" in data[:4096].lower() else "HTML/XML"
    return None


def _unsupported(data: bytes) -> ImageRejected:
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        # An accepted format whose header Pillow could not parse: say damaged,
        # not "wrong format", or the seller will hunt for a converter.
        return _corrupt()
    kind = _detected_kind(data)
    if kind == "HEIC":
        message = _("HEIC photos are not accepted. Set the camera to “Most compatible” or "
                    "export the photo as JPEG, then upload it again.")
    elif kind:
        message = _("This file is %(kind)s, which is not accepted. Upload a JPEG, PNG or "
                    "WebP photo.") % {"kind": kind}
    else:
        message = _("This file is not a JPEG, PNG or WebP photo. Upload a photo in one of "
                    "those formats.")
    return ImageRejected(message, code="unsupported_format")


def _format_mb(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


# --- Container checks: the file must end where the image ends -----------------------


def _check_container(data: bytes, fmt: str) -> None:
    if fmt in {"JPEG", "MPO"}:
        end = _jpeg_end(data, 0)
        if fmt == "MPO":
            # The extra frames of a multi-picture file are whole JPEGs after
            # the first; anything else after them is still refused.
            while end < len(data) and data.startswith(b"\xff\xd8", _skip_padding(data, end)):
                end = _jpeg_end(data, _skip_padding(data, end))
        end = _skip_padding(data, end)
    elif fmt == "PNG":
        end = _png_end(data)
    else:
        end = _webp_end(data)
    if end != len(data):
        raise ImageRejected(
            _("The file has extra data after the end of the picture (for example a motion "
              "photo's video, or hidden content). Save or export it as a plain photo and "
              "upload it again."),
            code="trailing_data",
        )


def _skip_padding(data: bytes, pos: int) -> int:
    # Some encoders pad a JPEG with zero bytes after EOI; that is not content.
    while pos < len(data) and data[pos] == 0:
        pos += 1
    return pos


def _jpeg_end(data: bytes, start: int) -> int:
    """Return the offset just after the EOI marker of the JPEG starting at `start`."""
    n = len(data)
    if data[start:start + 2] != b"\xff\xd8":
        raise _corrupt()
    pos = start + 2
    while pos < n:
        if data[pos] != 0xFF:
            raise _corrupt()
        while pos < n and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            return pos
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            continue
        if pos + 2 > n:
            break
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2:
            raise _corrupt()
        pos += length
        if marker == 0xDA:  # SOS: entropy-coded data runs until the next real marker
            while True:
                ff = data.find(b"\xff", pos)
                if ff < 0 or ff + 1 >= n:
                    raise _corrupt()
                following = data[ff + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffing, restart
                    pos = ff + 2
                elif following == 0xFF:
                    pos = ff + 1
                else:
                    pos = ff
                    break
    raise _corrupt()


def _png_end(data: bytes) -> int:
    """Return the offset just after the IEND chunk, checking every chunk's CRC."""
    pos, n = 8, len(data)
    while pos + 12 <= n:
        length, chunk_type = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > n:
            break
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            raise _corrupt()
        pos = end
        if chunk_type == b"IEND":
            return pos
    raise _corrupt()


def _webp_end(data: bytes) -> int:
    """Return the offset where the RIFF container says the WebP file ends."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _corrupt()
    size = int.from_bytes(data[4:8], "little")
    end = 8 + size + (size & 1)  # RIFF chunks are padded to even sizes
    if end > len(data):
        raise _corrupt()
    return end


# --- Sanitising ----------------------------------------------------------------------


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ICC_INPUT_MODES = {"RGB ": "RGB", "GRAY": "L", "CMYK": "CMYK"}


def sanitize(img: Image.Image, *, max_side: int) -> Image.Image:
    """Return a metadata-free RGB or RGBA copy: upright, sRGB, longest side <= max_side."""
    icc = img.info.get("icc_profile")
    img = ImageOps.exif_transpose(img)
    img = _to_base_mode(img)
    if max(img.size) > max_side:
        scale = max_side / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        # reducing_gap: a fast integer downscale first, Lanczos for the last step.
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    alpha = img.getchannel("A") if img.mode in {"LA", "RGBA"} else None
    color = img.convert({"LA": "L", "RGBA": "RGB"}.get(img.mode, img.mode))
    color = _to_srgb(color, icc)
    if alpha is not None and alpha.getextrema() != (255, 255):
        color.putalpha(alpha)
    # A fresh image from raw pixels carries no info dict at all: encoders
    # fall back to im.info for ICC profiles and comments, so nothing may remain.
    return Image.frombytes(color.mode, color.size, color.tobytes())


def _to_base_mode(img: Image.Image) -> Image.Image:
    """Return `img` in L, LA, RGB, RGBA or CMYK, keeping transparency and tone range."""
    if img.mode in {"L", "LA", "RGB", "RGBA", "CMYK"}:
        return img
    if img.mode in {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}:
        wide = img.convert("I") if img.mode != "F" else img
        if wide.getextrema()[1] > 255:  # 16-bit samples: scale, do not clip
            wide = wide.point(lambda v: v * (255 / 65535))
        return wide.convert("L")
    if img.mode in {"P", "PA"} or "transparency" in img.info:
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Return `img` converted to sRGB RGB, through its ICC profile when it has a usable one."""
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = profile.profile.xcolor_space
            if _ICC_INPUT_MODES.get(space) == img.mode:
                return ImageCms.profileToProfile(
                    img, profile, _SRGB, renderingIntent=ImageCms.Intent.PERCEPTUAL,
                    outputMode="RGB",
                )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A broken or mismatched profile (phones do write them) must not
            # cost the seller the photo: the pixels are still good.
            pass
    return img.convert("RGB")


# --- Encoding ------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str, *, master: bool = False) -> EncodedImage:
    """Return `img` encoded as `fmt` ("avif", "webp" or "jpeg") with no metadata.

    AVIF and WebP variants stay within the byte budget for their width
    (`variant_byte_budget`), stepping quality down only when they must.
    """
    if fmt == "jpeg":
        return _encode(_flatten(img), fmt, MASTER_JPEG_OPTIONS if master else JPEG_OPTIONS)
    if master:
        return _encode(img, fmt, MASTER_WEBP_OPTIONS if fmt == "webp" else AVIF_OPTIONS)
    options, ladder = ((WEBP_OPTIONS, WEBP_QUALITY_LADDER) if fmt == "webp"
                       else (AVIF_OPTIONS, AVIF_QUALITY_LADDER))
    budget = variant_byte_budget(img.width)
    for quality in ladder:
        encoded = _encode(img, fmt, {**options, "quality": quality})
        if len(encoded.data) <= budget:
            break
    return encoded  # the last step of the ladder even if still over: never no image


def variant_byte_budget(width: int) -> int:
    """Return the most bytes an AVIF or WebP variant `width` pixels wide should take."""
    return round(BYTES_AT_320 * (width / 320) ** 2)


def _encode(img: Image.Image, fmt: str, options: dict) -> EncodedImage:
    buffer = io.BytesIO()
    try:
        # Explicitly empty metadata, as a second guard after sanitize().
        img.save(buffer, PIL_FORMATS[fmt], exif=b"", icc_profile=b"", **options)
    except OSError:
        if fmt != "jpeg" or not (options.get("optimize") or options.get("progressive")):
            raise
        # Pillow sizes its JPEG buffer at one byte per pixel when optimizing or
        # progressive, since libjpeg must hold the whole scan; a high-entropy
        # photo (sensor noise at high ISO, confetti, gravel) at quality 90 and
        # 4:4:4 needs more and fails with "broken data stream". A baseline JPEG
        # streams through any buffer: a few per cent larger, but stored.
        buffer = io.BytesIO()
        baseline = {**options, "optimize": False, "progressive": False}
        img.save(buffer, PIL_FORMATS[fmt], exif=b"", icc_profile=b"", **baseline)
    return EncodedImage(data=buffer.getvalue(), format=fmt, width=img.width, height=img.height)


def _flatten(img: Image.Image) -> Image.Image:
    """Return `img` without alpha: transparency painted onto white (JPEG has none)."""
    if img.mode != "RGBA":
        return img.convert("RGB") if img.mode != "RGB" else img
    background = Image.new("RGB", img.size, WHITE)
    background.paste(img, mask=img.getchannel("A"))
    return background


def encode_master(img: Image.Image) -> EncodedImage:
    """Return the master file: JPEG when opaque, WebP when it keeps transparency."""
    return encode(img, "webp" if img.mode == "RGBA" else "jpeg", master=True)


def render(master: Image.Image, *, widths: Iterable[int], formats: Sequence[str]) -> Rendition:
    """Return the variants (never wider than `master`) and the placeholder of `master`."""
    variants = []
    for width in sorted(set(widths)):
        if width > master.width:
            continue  # never upscale: it costs bytes and adds nothing
        height = max(1, round(master.height * width / master.width))
        resized = master.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants.extend(encode(resized, fmt) for fmt in formats)
    color, data_uri = placeholder(master)
    return Rendition(variants=variants, placeholder_color=color, placeholder_data=data_uri)


def placeholder(img: Image.Image) -> tuple[str, str]:
    """Return the dominant colour as #rrggbb and a tiny blurred WebP preview as a data: URI."""
    small = _flatten(img)
    small = small.resize(_fit(small.size, 64), Image.Resampling.BOX)
    # Median cut to a few colours, then the most frequent one: the colour the
    # eye reads as "the photo's colour", not a muddy average of everything.
    palette_img = small.quantize(colors=6, method=Image.Quantize.MEDIANCUT)
    palette = palette_img.getpalette() or []
    count, index = max(palette_img.getcolors() or [(1, 0)])
    red, green, blue = palette[index * 3:index * 3 + 3] or (221, 221, 221)
    preview = small.resize(_fit(small.size, LQIP_SIDE), Image.Resampling.BOX)
    buffer = io.BytesIO()
    preview.save(buffer, "WEBP", quality=30, method=6, exif=b"", icc_profile=b"")
    data_uri = "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"#{red:02x}{green:02x}{blue:02x}", data_uri


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# --- The whole pipeline ----------------------------------------------------------------


def process_upload(
    data: bytes, *, limits: Limits, widths: Iterable[int], formats: Sequence[str],
    master_side: int = 2048,
) -> ProcessedImage:
    """Return the sanitised master and its rendition for the uploaded bytes `data`."""
    img = open_validated(data, limits=limits)
    master = encode_master(sanitize(img, max_side=master_side))
    # Variants come from the *decoded master*, exactly as regeneration will
    # make them later, so regenerating right after an upload changes nothing.
    return ProcessedImage(master=master, rendition=render_master(
        master.data, limits=limits, widths=widths, formats=formats))


def render_master(
    data: bytes, *, limits: Limits, widths: Iterable[int], formats: Sequence[str],
) -> Rendition:
    """Return the rendition of a stored master file (validated like any upload)."""
    img = open_validated(data, limits=limits)
    img = img.convert("RGBA" if img.mode in {"RGBA", "LA", "P"} else "RGB")
    return render(img, widths=widths, formats=formats)
