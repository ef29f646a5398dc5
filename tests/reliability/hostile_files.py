"""Crafted hostile uploads: polyglots, renamed formats, pixel bombs, corrupt and odd files.

Shared by tests/reliability/test_hostile_uploads.py and bench/reliability/.
Every case is generated here from Pillow and a few bytes of hand-written
headers (nothing downloaded), deterministically from a seed, and every case
is one the image pipeline must refuse: the count of accepted files must be 0.
Names are hostile too (double extensions, traversal, NUL bytes), and each case
says what it is so a failure names the file.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image

BASE_SIZE = (400, 300)  # passes every size rule, so only the hostile part can refuse it


@dataclass(frozen=True)
class HostileFile:
    label: str
    name: str
    data: bytes
    content_type: str = "image/jpeg"


def _picture(seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    img = Image.new("RGB", BASE_SIZE, (rng.randrange(256), rng.randrange(256), 90))
    for _ in range(12):  # some structure, so encoders do real work
        x, y = rng.randrange(BASE_SIZE[0] - 40), rng.randrange(BASE_SIZE[1] - 40)
        img.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)),
                  (x, y, x + 40, y + 40))
    return img


def encode(fmt: str, img: Image.Image | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    (img or _picture()).save(buffer, fmt, **options)
    return buffer.getvalue()


def valid_png() -> bytes:
    return encode("PNG")


def valid_jpeg() -> bytes:
    return encode("JPEG", quality=85)


def valid_webp() -> bytes:
    return encode("WEBP", quality=80)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose IHDR claims `width` x `height` (CRC fixed up)."""
    idat = zlib.compress(b"\x00" + b"\x00\x00\x00" * 8)
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b""))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG whose SOF0 frame header is rewritten to claim `width` x `height`."""
    data = bytearray(valid_jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """An extended (VP8X) WebP whose canvas claims `width` x `height`."""
    vp8x = struct.pack("<I", 0)[:1] + b"\x00\x00\x00" + (width - 1).to_bytes(3, "little") \
        + (height - 1).to_bytes(3, "little")
    inner = valid_webp()[12:]  # the VP8 chunk of a real picture
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + inner
    return b"RIFF" + struct.pack("<I", len(body)) + body


def psd() -> bytes:
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 300, 400, 8, 3)
    return header + struct.pack(">IIIH", 0, 0, 0, 0) + bytes(3 * 300 * 400)


def heic() -> bytes:
    # An ISO-BMFF 'ftyp' box naming HEIC brands, then an empty meta box.
    ftyp = b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic"
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", 8) + b"meta"


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction<</S/JavaScript"
            b"/JS(app.alert(1))>>>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def eps() -> bytes:
    return (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 400 300\n"
            b"(/etc/passwd) (r) file 100 string readstring pop print\nshowpage\n%%EOF\n")


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def animated(fmt: str) -> bytes:
    frames = [_picture(seed) for seed in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


HTML = b"<html><body><script>fetch('/admin/').then(r=>r.text()).then(alert)</script></body></html>"
PHP = b"<?php system($_GET['c']); ?>"
SVGS = [
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
    b'<rect width="400" height="300"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    b'<a xlink:href="javascript:alert(1)"><rect width="400" height="300"/></a></svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe src="javascript:alert(1)"/>'
    b"</foreignObject></svg>",
]
HOSTILE_NAMES = [
    "photo.jpg.php", "photo.png.html", "photo.php.jpg", "shell.phtml", "x.jpg.exe",
    "../../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "photo.jpg\x00.php",
    "photo\x00.png", "....//....//x.jpg", "%2e%2e%2fx.jpg", ".htaccess", "photo.jpg;.php",
    "CON.jpg", "photo.svg", "a" * 300 + ".jpg", "фото.jpg.php", "photo.JPG.PhP",
    "photo.jpg ", "photo.jpg.", "<script>alert(1)</script>.jpg",
]


def hostile_files(seed: int = 7) -> list[HostileFile]:
    """Return every crafted case (a little over 200)."""
    rng = random.Random(seed)
    png, jpeg, webp = valid_png(), valid_jpeg(), valid_webp()
    cases: list[HostileFile] = []

    def add(label: str, name: str, data: bytes, content_type: str = "image/jpeg") -> None:
        cases.append(HostileFile(label, name, data, content_type))

    # Polyglots: a real picture with a second file after its end.
    for index, payload in enumerate([HTML, PHP, SVGS[0], b"#!/bin/sh\nrm -rf /\n",
                                     zip_bytes({"index.html": HTML})]):
        add(f"PNG + payload {index}", "x.png", png + payload, "image/png")
        add(f"JPEG + payload {index}", "x.jpg", jpeg + payload)
        add(f"WebP + payload {index}", "x.webp", webp + payload, "image/webp")
    add("JPEG + ZIP (JAR)", "x.jpg", jpeg + zip_bytes({"META-INF/MANIFEST.MF": b"Main-Class: X\n",
                                                      "X.class": b"\xca\xfe\xba\xbe"}))
    add("GIFAR", "x.gif", encode("GIF") + zip_bytes({"X.class": b"\xca\xfe\xba\xbe"}), "image/gif")
    add("PNG + JAR", "x.png", png + zip_bytes({"X.class": b"\xca\xfe\xba\xbe"}), "image/png")
    add("HTML behind PNG magic", "x.png", b"\x89PNG\r\n\x1a\n" + HTML, "image/png")
    add("HTML behind JPEG magic", "x.jpg", b"\xff\xd8\xff\xe0" + HTML)
    add("HTML behind WebP magic", "x.webp", b"RIFF\x00\x00\x00\x00WEBP" + HTML, "image/webp")
    add("PHP in a JPEG-magic file", "x.jpg", b"\xff\xd8\xff\xdb" + PHP)
    add("ZIP then JPEG", "x.jpg", zip_bytes({"a.html": HTML}) + jpeg)
    add("two PNGs back to back", "x.png", png + png, "image/png")
    add("two WebPs back to back", "x.webp", webp + webp, "image/webp")

    # SVG, under every name a seller (or an attacker) might give it.
    for index, svg in enumerate(SVGS):
        for name, content_type in (("x.svg", "image/svg+xml"), ("x.png", "image/png"),
                                   ("x.jpg", "image/jpeg")):
            add(f"SVG {index} as {name}", name, svg, content_type)

    # Formats outside the allowlist, renamed to look like photos.
    renamed = {
        "PSD": psd(), "TIFF": encode("TIFF"), "TIFF (LZW)": encode("TIFF", compression="tiff_lzw"),
        "EPS": eps(), "PDF": pdf(), "Pillow PDF": encode("PDF"), "GIF": encode("GIF"),
        "BMP": encode("BMP"), "HEIC": heic(), "ICO": encode("ICO"), "TGA": encode("TGA"),
        "PPM": encode("PPM"), "PCX": encode("PCX"), "JPEG 2000": encode("JPEG2000"),
        "DDS": encode("DDS", img=_picture().convert("RGBA").resize((256, 256))),
        "HTML": HTML, "PHP": PHP, "ZIP": zip_bytes({"x.jpg": jpeg}),
    }
    for label, data in renamed.items():
        for name in ("photo.jpg", "photo.png", "photo.webp"):
            add(f"{label} renamed {name}", name, data)

    # Animated pictures (a still photo is asked for).
    add("animated GIF", "x.gif", animated("GIF"), "image/gif")
    add("animated PNG", "x.png", animated("PNG"), "image/png")
    add("animated WebP", "x.webp", animated("WEBP"), "image/webp")

    # Pixel bombs: huge declared dimensions in a small file, in every accepted format.
    for width, height in ((30000, 30000), (65500, 65500), (100000, 100000), (12001, 4000),
                          (50000, 10000), (8000, 8000), (2**24 - 1, 2**24 - 1)):
        if width <= 2**31 - 1:
            add(f"PNG bomb {width}x{height}", "bomb.png", png_declaring(width, height),
                "image/png")
        if width <= 65535 and height <= 65535:
            add(f"JPEG bomb {width}x{height}", "bomb.jpg", jpeg_declaring(width, height))
        if width <= 2**24 and height <= 2**24:
            add(f"WebP bomb {width}x{height}", "bomb.webp", webp_declaring(width, height),
                "image/webp")
    add("PNG with zero width", "x.png", png_declaring(0, 300), "image/png")
    add("JPEG with zero height", "x.jpg", jpeg_declaring(400, 0))

    # Truncated files.
    for label, data in (("PNG", png), ("JPEG", jpeg), ("WebP", webp)):
        for fraction in (0.05, 0.25, 0.5, 0.75, 0.95):
            add(f"{label} cut at {fraction:.0%}", f"cut.{label.lower()}",
                data[:int(len(data) * fraction)])
        for missing in (1, 2, 12):
            add(f"{label} missing last {missing} bytes", f"cut.{label.lower()}", data[:-missing])

    # Bit flips in a PNG: every chunk carries a CRC and the pixels a zlib checksum.
    for flip in range(130):
        data = bytearray(png)
        position = rng.randrange(8, len(data))
        data[position] ^= 1 << rng.randrange(8)
        add(f"PNG bit flip {flip} at byte {position}", "flip.png", bytes(data), "image/png")
    # A JPEG's segment structure broken: each header segment's marker erased, or its
    # length pointing past the end of the file. (Changing a byte *inside* a
    # quantisation table still leaves a valid JPEG, so that is not a corrupt file.)
    position = 2
    while position < len(jpeg) and jpeg[position + 1] != 0xDA:
        length = struct.unpack(">H", jpeg[position + 2:position + 4])[0]
        erased = bytearray(jpeg)
        erased[position] = 0x00
        add(f"JPEG marker at byte {position} erased", "flip.jpg", bytes(erased))
        overlong = bytearray(jpeg)
        overlong[position + 2:position + 4] = b"\xff\xff"
        add(f"JPEG segment at byte {position} runs past the end", "flip.jpg", bytes(overlong))
        position += 2 + length
    # Hostile names, with hostile content (the content is what is refused).
    for index, name in enumerate(HOSTILE_NAMES):
        payload = (PHP, HTML, SVGS[1], b"")[index % 4]
        add(f"hostile name {name[:40]!r}", name, payload, "image/jpeg")

    # Empty files.
    for name in ("empty.jpg", "empty.png", "empty.webp", ".jpg", "empty"):
        add(f"zero bytes as {name}", name, b"")

    return cases


def _high_iso(size: tuple[int, int], sigma: float, seed: int) -> Image.Image:
    """Return a photo-like frame (smooth gradients) buried in sensor noise, as at ISO 6400."""
    width, height = size
    rng = random.Random(seed)
    channels = []
    for band in range(3):
        base = Image.linear_gradient("L").resize(size)
        if band == 1:
            base = base.transpose(Image.Transpose.ROTATE_90).resize(size)
        noise = Image.effect_noise(size, sigma)
        # Different noise per channel: chroma noise is what makes high-ISO JPEGs big.
        channels.append(Image.blend(base, noise.rotate(rng.choice((0, 180))), 0.55))
    return Image.merge("RGB", channels)


def high_entropy_photos() -> list[HostileFile]:
    """Return honest photos that are hard to compress: each must be stored, never refused.

    8-bit uniform noise is the worst case for an encoder (no two pixels alike);
    high-ISO frames are what budget phones actually shoot indoors at night. At
    quality 90 and 4:4:4 they take more than one byte per pixel, which once
    broke the master encode ("broken data stream", a 500).
    """
    cases = []
    for index, (width, height) in enumerate(((400, 300), (1000, 800), (2000, 1500))):
        noise = Image.frombytes("RGB", (width, height),
                                random.Random(index).randbytes(width * height * 3))
        cases.append(HostileFile(f"8-bit noise PNG {width}x{height}", "noise.png",
                                 encode("PNG", noise), "image/png"))
        cases.append(HostileFile(f"8-bit noise JPEG q95 {width}x{height}", "noise.jpg",
                                 encode("JPEG", noise, quality=95, subsampling=0)))
        iso = _high_iso((width, height), sigma=70, seed=index)
        cases.append(HostileFile(f"high-ISO JPEG {width}x{height}", "night.jpg",
                                 encode("JPEG", iso, quality=92)))
    return cases


def oversized_files(max_bytes: int) -> list[HostileFile]:
    """Return files one byte, and far, over the upload limit (built when needed: they are big)."""
    png = valid_png()
    return [
        HostileFile("oversized by one byte", "big.png",
                    png + b"\x00" * (max_bytes + 1 - len(png)), "image/png"),
        HostileFile("oversized x1.5", "big.jpg", valid_jpeg() + b"\xff" * (max_bytes // 2 * 3)),
    ]
