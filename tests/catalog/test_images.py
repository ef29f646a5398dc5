"""The pure image pipeline: what it accepts, what it refuses, and what it writes.

Every input is generated here with Pillow (or crafted byte by byte where Pillow
cannot write the format); nothing is downloaded.
"""

from __future__ import annotations

import base64
import io
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms

from catalog import images
from tests.factories import make_image, make_image_bytes

WIDTHS = (160, 320, 480, 640, 960)
FORMATS = ("avif", "webp", "jpeg")
LIMITS = images.Limits(max_bytes=15 * 1024 * 1024, max_pixels=40_000_000)
RED, BLUE = (220, 20, 20), (20, 20, 220)


def process(data: bytes, limits: images.Limits = LIMITS) -> images.ProcessedImage:
    return images.process_upload(data, limits=limits, widths=WIDTHS, formats=FORMATS)


def rejection(data: bytes, limits: images.Limits = LIMITS) -> images.ImageRejected:
    with pytest.raises(images.ImageRejected) as info:
        images.open_validated(data, limits=limits)
    return info.value


def jpeg_markers(data: bytes) -> list[int]:
    """Return the marker bytes of a JPEG's header segments, up to the first scan."""
    markers, pos = [], 2
    while pos < len(data):
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            return markers
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return markers


def png_with_chunk_patched(data: bytes, width: int, height: int) -> bytes:
    """Return `data` (a PNG) with its IHDR declaring `width` x `height`, CRC fixed."""
    ihdr = bytearray(data[8:8 + 25])
    ihdr[8:16] = struct.pack(">II", width, height)
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    return data[:8] + bytes(ihdr) + data[33:]


def exif_with_gps_and_rotation() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90° clockwise to display"
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (18.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (73.0, 51.0, 24.0)
    return exif.tobytes()


def assert_no_metadata(variant: images.EncodedImage) -> None:
    opened = Image.open(io.BytesIO(variant.data))
    assert len(opened.getexif()) == 0
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
        assert not opened.info.get(key), (variant.format, key)
    assert b"Exif\x00\x00" not in variant.data
    assert b"ns.adobe.com/xap" not in variant.data
    if variant.format == "jpeg":
        # No APP1 (EXIF/XMP), APP2 (ICC), APP13 (Photoshop) or COM segment.
        assert not {0xE1, 0xE2, 0xED, 0xFE} & set(jpeg_markers(variant.data))
    if variant.format == "webp":
        assert not any(chunk in variant.data[12:] for chunk in (b"EXIF", b"XMP ", b"ICCP"))


# --- Sanitising -------------------------------------------------------------------------


def test_photo_with_gps_and_rotation_tag_comes_out_upright_and_without_metadata():
    # given a 480x320 camera JPEG stored sideways: red on top, blue below, with
    # Orientation=6, GPS coordinates, an ICC profile, XMP and a comment
    source = Image.new("RGB", (480, 320), BLUE)
    source.paste(RED, (0, 0, 480, 160))
    buffer = io.BytesIO()
    source.save(
        buffer, "JPEG", quality=95, exif=exif_with_gps_and_rotation(),
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>seller's home</x:xmpmeta>",
        comment=b"shot at home",
    )
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    # when it goes through the pipeline
    result = process(data)

    # then master and variants are 320 wide, 480 tall (sides swapped)...
    assert (result.master.width, result.master.height) == (320, 480)
    assert {(v.width, v.height) for v in result.rendition.variants} == {(160, 240), (320, 480)}
    # ...turned clockwise: what was the top (red) is now the right-hand side
    for encoded in [result.master, *result.rendition.variants]:
        assert_no_metadata(encoded)
        pixels = Image.open(io.BytesIO(encoded.data)).convert("RGB")
        right = pixels.getpixel((pixels.width * 7 // 8, pixels.height // 2))
        left = pixels.getpixel((pixels.width // 8, pixels.height // 2))
        assert right[0] > 150 and right[2] < 100, (encoded.format, right)
        assert left[2] > 150 and left[0] < 100, (encoded.format, left)


def test_every_output_is_free_of_metadata_whatever_the_input_format():
    exif = exif_with_gps_and_rotation()
    for fmt in ("PNG", "WEBP"):
        result = process(make_image_bytes(fmt=fmt, exif=exif))
        for encoded in [result.master, *result.rendition.variants]:
            assert_no_metadata(encoded)


def test_cmyk_jpeg_is_converted_to_rgb_keeping_its_colour():
    # given a CMYK JPEG of pure red ink (no magenta-free cyan: C=0 M=100% Y=100% K=0)
    buffer = io.BytesIO()
    Image.new("CMYK", (320, 240), (0, 255, 255, 0)).save(buffer, "JPEG", quality=95)

    result = process(buffer.getvalue())

    pixel = Image.open(io.BytesIO(result.rendition.variants[0].data)).convert("RGB").getpixel(
        (80, 60))
    assert pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60
    assert Image.open(io.BytesIO(result.master.data)).mode == "RGB"


def test_icc_profile_is_applied_then_dropped():
    # given an image tagged with a real (sRGB) profile and one with a garbage profile
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = make_image_bytes(fmt="PNG", icc_profile=srgb)
    broken = make_image_bytes(fmt="PNG", icc_profile=b"not a profile at all")

    # then both are accepted, and colours survive the conversion
    reference = make_image(width=480, height=360).getpixel((240, 180))
    for data in (tagged, broken):
        master = Image.open(io.BytesIO(process(data).master.data))
        assert "icc_profile" not in master.info
        got = master.convert("RGB").getpixel((240, 180))
        assert all(abs(a - b) <= 12 for a, b in zip(got, reference, strict=True)), got


def test_transparency_is_kept_in_webp_and_avif_and_flattened_onto_white_in_jpeg():
    # given a palette PNG whose left half is transparent
    img = Image.new("RGBA", (320, 320), (0, 0, 0, 0))
    img.paste((30, 140, 60, 255), (160, 0, 320, 320))
    buffer = io.BytesIO()
    img.convert("P", palette=Image.Palette.ADAPTIVE).save(buffer, "PNG", transparency=0)
    assert Image.open(io.BytesIO(buffer.getvalue())).mode == "P"

    result = process(buffer.getvalue())

    assert result.master.format == "webp"
    by_format = {v.format: v for v in result.rendition.variants if v.width == 320}
    for fmt in ("webp", "avif"):
        decoded = Image.open(io.BytesIO(by_format[fmt].data)).convert("RGBA")
        assert decoded.getpixel((40, 160))[3] < 10
        assert decoded.getpixel((280, 160))[3] > 245
    jpeg = Image.open(io.BytesIO(by_format["jpeg"].data))
    assert jpeg.mode == "RGB"
    assert min(jpeg.getpixel((40, 160))) > 245  # white, not black


@pytest.mark.parametrize("mode", ["LA", "L", "1"])
def test_grey_and_bilevel_images_become_rgb(mode):
    result = process(make_image_bytes(fmt="PNG", mode=mode, width=200, height=200))
    assert Image.open(io.BytesIO(result.rendition.variants[0].data)).mode in {"RGB", "RGBA"}


def test_16_bit_grey_is_scaled_not_clipped():
    buffer = io.BytesIO()
    Image.new("I;16", (200, 200), 32768).save(buffer, "PNG")  # mid grey in 16 bits

    master = Image.open(io.BytesIO(process(buffer.getvalue()).master.data)).convert("L")

    assert 118 <= master.getpixel((100, 100)) <= 138


# --- Variants ---------------------------------------------------------------------------


def test_variants_are_never_upscaled():
    # given a 500px-wide photo
    result = process(make_image_bytes(width=500, height=400))

    widths = sorted({v.width for v in result.rendition.variants})
    assert widths == [160, 320, 480]
    for variant in result.rendition.variants:
        assert variant.height == round(400 * variant.width / 500)
        assert Image.open(io.BytesIO(variant.data)).size == (variant.width, variant.height)
    assert sorted(v.format for v in result.rendition.variants) == sorted(FORMATS * 3)


@pytest.mark.parametrize("fmt", ["avif", "webp"])
def test_a_variant_over_its_byte_budget_is_re_encoded_smaller(monkeypatch, fmt):
    # given a textured 320x427 thumbnail and its size at the normal quality
    texture = Image.effect_noise((320, 427), 60).convert("RGB")
    img = Image.blend(make_image(width=320, height=427, seed=2), texture, 0.4)
    monkeypatch.setattr(images, "BYTES_AT_320", 10**9)
    normal = images.encode(img, fmt)

    # when the budget is 80% of that
    budget = len(normal.data) * 8 // 10
    monkeypatch.setattr(images, "BYTES_AT_320", budget)
    bounded = images.encode(img, fmt)

    # then a lower quality step is taken and the variant fits, still a whole image
    assert len(bounded.data) <= budget
    assert Image.open(io.BytesIO(bounded.data)).size == (320, 427)
    assert images.variant_byte_budget(640) == budget * 4


def test_the_default_budget_keeps_320w_under_20_kb():
    assert images.variant_byte_budget(320) <= 20 * 1024


def test_variant_names_are_content_hashed_and_the_same_for_the_same_upload():
    data = make_image_bytes(seed=3)

    first, second = process(data), process(data)
    other = process(make_image_bytes(seed=4))

    names = [v.variant_name() for v in first.rendition.variants]
    assert names == [v.variant_name() for v in second.rendition.variants]
    assert first.master.master_name() == second.master.master_name()
    assert not set(names) & {v.variant_name() for v in other.rendition.variants}
    for variant, name in zip(first.rendition.variants, names, strict=True):
        digest = variant.sha256[:images.NAME_HASH_LENGTH]
        assert name == f"products/v/{digest[:2]}/{digest}-{variant.width}.{variant.extension}"


def test_regenerating_from_the_master_reproduces_the_upload_variants():
    result = process(make_image_bytes(seed=5))

    again = images.render_master(result.master.data, limits=LIMITS, widths=WIDTHS,
                                 formats=FORMATS)

    assert again == result.rendition


def test_placeholder_is_the_dominant_colour_and_a_tiny_preview():
    # given a photo that is mostly one green with a small red patch
    img = Image.new("RGB", (400, 300), (40, 160, 70))
    img.paste((200, 30, 30), (0, 0, 80, 60))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")

    rendition = process(buffer.getvalue()).rendition

    red, green, blue = (int(rendition.placeholder_color[i:i + 2], 16) for i in (1, 3, 5))
    assert abs(red - 40) < 16 and abs(green - 160) < 16 and abs(blue - 70) < 16
    prefix = "data:image/webp;base64,"
    assert rendition.placeholder_data.startswith(prefix)
    assert len(rendition.placeholder_data) < 600
    preview = Image.open(io.BytesIO(base64.b64decode(rendition.placeholder_data[len(prefix):])))
    assert max(preview.size) == images.LQIP_SIDE


@pytest.mark.slow
def test_a_camera_sized_photo_is_processed_in_a_few_seconds():
    # given a 12-megapixel JPEG with texture everywhere (noise is not flat colour)
    noise = Image.effect_noise((4000, 3000), 40)
    photo = Image.merge("RGB", [noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                Image.linear_gradient("L").resize((4000, 3000))])
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)

    # CPU seconds (all threads), not wall time: on a shared 2-core box other
    # jobs stretch wall time arbitrarily, CPU time measures our own work.
    started = time.process_time()
    result = process(buffer.getvalue())
    cpu_seconds = time.process_time() - started

    assert (result.master.width, result.master.height) == (2048, 1536)
    assert {v.width for v in result.rendition.variants} == set(WIDTHS)
    assert cpu_seconds < 6, f"{cpu_seconds:.1f} s of CPU"


def test_an_incompressible_master_falls_back_to_a_baseline_jpeg():
    # given 8-bit noise, which at quality 90 and 4:4:4 needs more than a byte per pixel
    import random

    noise = Image.frombytes("RGB", (400, 300), random.Random(1).randbytes(400 * 300 * 3))
    # when the master is encoded (optimize=True overflows Pillow's whole-image buffer)
    master = images.encode_master(noise)
    # then it is a full-size JPEG that decodes, not an OSError
    decoded = Image.open(io.BytesIO(master.data))
    assert (decoded.format, decoded.size) == ("JPEG", (400, 300))
    assert len(master.data) > 400 * 300


# --- Rejections -------------------------------------------------------------------------


def test_declared_decompression_bomb_is_refused_before_decoding():
    # given a tiny PNG whose header claims 20000x20000 pixels
    bomb = png_with_chunk_patched(make_image_bytes(fmt="PNG", width=200, height=200),
                                  20000, 20000)
    assert len(bomb) < 100_000

    error = rejection(bomb)

    assert error.code == "too_many_pixels"
    assert "megapixels" in error.message


def test_images_over_our_pixel_limit_but_under_pillows_are_refused_too():
    bomb = png_with_chunk_patched(make_image_bytes(fmt="PNG", width=200, height=200),
                                  8000, 6000)
    assert rejection(bomb).code == "too_many_pixels"


@pytest.mark.parametrize(
    ("width", "height", "code"),
    [
        (1000, 10, "too_small"),  # a tuple comparison with (w, h) would let this pass
        (10, 1000, "too_small"),
        (1000, 150, "too_small"),
        (1200, 200, "bad_aspect_ratio"),
        (200, 1200, "bad_aspect_ratio"),
    ],
)
def test_each_side_is_checked_on_its_own(width, height, code):
    assert rejection(make_image_bytes(fmt="PNG", width=width, height=height)).code == code


def test_a_side_above_the_maximum_is_refused():
    limits = images.Limits(max_bytes=LIMITS.max_bytes, max_pixels=LIMITS.max_pixels,
                           max_side=1000)
    error = rejection(make_image_bytes(fmt="PNG", width=1200, height=600), limits)
    assert error.code == "too_long_side"
    assert "1000" in error.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_files_are_refused(fmt):
    data = make_image_bytes(fmt=fmt, width=400, height=300)
    assert rejection(data[: len(data) * 2 // 3]).code == "corrupt"


def test_corrupted_jpeg_body_is_refused():
    data = bytearray(make_image_bytes(width=400, height=300))
    data[len(data) // 2:len(data) // 2 + 200] = b"\xff\xd9" * 100  # EOI in the middle of a scan
    assert rejection(bytes(data)).code in {"corrupt", "trailing_data"}


def test_png_with_html_appended_is_refused():
    polyglot = make_image_bytes(fmt="PNG") + b"<html><script>alert(document.cookie)</script>"
    error = rejection(polyglot)
    assert error.code == "trailing_data"


def test_jpeg_with_data_after_eoi_is_refused():
    polyglot = make_image_bytes() + b"PK\x03\x04 a zip archive rides along"
    assert rejection(polyglot).code == "trailing_data"


def test_webp_with_data_after_the_riff_container_is_refused():
    assert rejection(make_image_bytes(fmt="WEBP") + b"<svg onload=alert(1)>").code == (
        "trailing_data")


@pytest.mark.parametrize("offset", [30, -1])  # in IHDR's CRC, in IEND's CRC
def test_png_chunk_with_bad_crc_is_refused(offset):
    data = bytearray(make_image_bytes(fmt="PNG"))
    data[offset] ^= 0xFF
    assert rejection(bytes(data)).code == "corrupt"


def test_damaged_header_of_an_accepted_format_is_called_damaged_not_unsupported():
    data = bytearray(make_image_bytes())
    data[2:40] = bytes(38)  # wipe the JPEG's first segments, keep its signature
    data[2] = 0xFF
    assert rejection(bytes(data)).code == "corrupt"


def minimal_psd(width: int = 200, height: int = 200) -> bytes:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, resources, layers
    return header + sections + struct.pack(">H", 0) + bytes(3 * width * height)


def minimal_eps() -> bytes:
    buffer = io.BytesIO()
    try:
        make_image(width=200, height=200).save(buffer, "EPS")
    except OSError:  # no Ghostscript needed to write, but be safe
        pass
    return buffer.getvalue() or (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 200 200\nshowpage\n%%EOF\n")


def encoded_with_pillow(fmt: str) -> bytes:
    buffer = io.BytesIO()
    make_image(width=200, height=200).save(buffer, fmt)
    return buffer.getvalue()


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" '
       b'height="400"><script>alert(1)</script><rect width="400" height="400"/></svg>')


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (SVG, "SVG"),
        (minimal_psd(), "Photoshop (PSD)"),
        (encoded_with_pillow("TIFF"), "TIFF"),
        (minimal_eps(), "PostScript (EPS)"),
        (encoded_with_pillow("GIF"), "GIF"),
        (encoded_with_pillow("BMP"), "BMP"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "PDF"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", None),
        (b"just some text, renamed to .jpg", None),
    ],
)
def test_formats_outside_the_allowlist_are_refused_and_named(data, named):
    error = rejection(data)
    assert error.code == "unsupported_format"
    if named:
        assert named in error.message


def test_the_crafted_psd_is_a_real_psd_so_only_the_allowlist_refuses_it():
    assert Image.open(io.BytesIO(minimal_psd())).format == "PSD"


def test_animated_images_are_refused():
    frames = [make_image(width=200, height=200, seed=s) for s in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:])
    assert rejection(buffer.getvalue()).code == "animated"


def test_files_over_the_byte_limit_are_refused_without_reading_them_all():
    data = make_image_bytes(width=400, height=300)
    small_limit = len(data) - 1

    stream = io.BytesIO(data)
    with pytest.raises(images.ImageRejected) as info:
        images.read_upload(stream, max_bytes=small_limit)

    assert info.value.code == "too_large"
    assert stream.tell() == small_limit + 1


def test_empty_file_is_refused():
    assert rejection(b"").code == "empty"
