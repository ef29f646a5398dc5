"""Measure the image pipeline and rewrite the "## Images" section of docs/BENCHMARKS.md.

Run through `make bench` (bench/steps/20-images) or directly:
    .venv/bin/python bench/images_bench.py [--runs 5] [--no-write]

Inputs are drawn here, nothing is downloaded: listing-style product shots
(a shaded object with fabric texture on a studio backdrop, as sellers
photograph on a phone) and a camera-sized 4000x3000 photo with texture at
every scale and sensor grain, so byte sizes are honest rather than the tiny
numbers flat colour would give. Exits 1 if a 320w AVIF or WebP breaks the
20 KB budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-key-not-secret-000000000000000")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, features  # noqa: E402

from catalog import images  # noqa: E402
from catalog.services.images import MASTER_MAX_SIDE  # noqa: E402

BUDGET_320 = 20 * 1024  # DESIGN.md: feed thumbnail at 320w <= 20 KB (AVIF/WebP)
SECTION = "## Images"


def fractal(width: int, height: int) -> Image.Image:
    """Return 1/f grey noise: structure at every scale, like foliage, fabric or skin."""
    acc = None
    for scale in (8, 32, 128, 512, 2048):
        small = (max(2, width * scale // 4096), max(2, height * scale // 4096))
        layer = Image.effect_noise(small, 80).resize((width, height), Image.Resampling.BICUBIC)
        acc = layer if acc is None else Image.blend(acc, layer, 0.3)
    return ImageOps.autocontrast(acc, cutoff=1)


def camera_photo(width: int, height: int, seed: int) -> Image.Image:
    """Return a photographic-looking scene: textured background, objects, shading, grain."""
    rng = random.Random(seed)
    base = Image.merge("RGB", [ImageOps.autocontrast(fractal(width, height).point(
        lambda v: 40 + v * 0.6)) for _ in range(3)])
    draw = ImageDraw.Draw(base)
    for _ in range(14):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(width // 20, width // 5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    for i in range(0, width, max(2, width // 200)):  # a striped fabric in the foreground
        draw.line([(i, height * 3 // 4), (i + width // 10, height)], fill=(235, 235, 225),
                  width=max(1, width // 1000))
    base = base.filter(ImageFilter.GaussianBlur(width / 1500))  # lens softness
    shade = fractal(width, height).point(lambda v: 140 + v * 115 // 255)
    base = ImageChops.multiply(base, Image.merge("RGB", [shade] * 3))
    grain = Image.effect_noise((width, height), 18)
    return Image.blend(base, Image.merge("RGB", [grain] * 3), 0.10)


def listing_photo(width: int, height: int, seed: int) -> Image.Image:
    """Return a product shot: a shaded, textured object and its shadow on a backdrop."""
    rng = random.Random(seed)
    backdrop = ImageOps.colorize(Image.linear_gradient("L").resize((width, height)),
                                 black=(200, 196, 190), white=(245, 243, 240))
    colour = tuple(rng.randrange(40, 220) for _ in "rgb")
    mask = Image.new("L", (width, height))
    draw = ImageDraw.Draw(mask)
    cx, cy = width // 2, height // 2
    w, h = width * rng.randrange(30, 42) // 100, height * rng.randrange(32, 42) // 100
    if seed % 2:  # a garment: shoulders, body, sleeves
        draw.polygon([(cx - w, cy - h), (cx + w, cy - h), (cx + w * 13 // 10, cy - h // 3),
                      (cx + w, cy - h // 4), (cx + w, cy + h), (cx - w, cy + h),
                      (cx - w, cy - h // 4), (cx - w * 13 // 10, cy - h // 3)], fill=255)
    else:  # a bottle or jar
        draw.rounded_rectangle((cx - w * 2 // 3, cy - h, cx + w * 2 // 3, cy + h), w // 3,
                               fill=255)
    shadow = mask.filter(ImageFilter.GaussianBlur(width / 40)).point(lambda v: v // 3)
    backdrop.paste((60, 55, 50), (width // 40, height // 40), shadow)
    fabric = fractal(width, height).point(lambda v: 150 + v * 105 // 255)
    light = Image.linear_gradient("L").rotate(90).resize((width, height)).point(
        lambda v: 120 + v * 135 // 255)
    body = ImageChops.multiply(Image.new("RGB", (width, height), colour),
                               Image.merge("RGB", [ImageChops.multiply(fabric, light)] * 3))
    backdrop.paste(body, (0, 0), mask.filter(ImageFilter.GaussianBlur(1.5)))
    grain = Image.effect_noise((width, height), 10)
    return Image.blend(backdrop, Image.merge("RGB", [grain] * 3), 0.06)


def jpeg_bytes(img: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=quality)  # what a phone camera writes
    return buffer.getvalue()


def process(data: bytes) -> images.ProcessedImage:
    return images.process_upload(
        data, limits=images.Limits.from_settings(), widths=settings.SHOP_IMAGE_WIDTHS,
        formats=settings.SHOP_IMAGE_FORMATS, master_side=MASTER_MAX_SIDE,
    )


def bytes_at(result: images.ProcessedImage, fmt: str, width: int) -> int:
    return next(len(v.data) for v in result.rendition.variants
                if v.format == fmt and v.width == width)


def kb(value: float) -> str:
    return f"{value / 1024:.1f} KB"


def measure(runs: int) -> dict:
    listing_shapes = [(1200, 1200), (1200, 1600), (1600, 1200), (1080, 1350)]
    listings = [process(jpeg_bytes(listing_photo(*listing_shapes[i % 4], seed=i)))
                for i in range(8)]
    # Two landscape and two portrait: a phone held upright gives a 320x427
    # thumbnail, 78% more pixels than a landscape 320x240 one.
    camera_shapes = [(4000, 3000), (3000, 4000), (4000, 3000), (3000, 4000)]
    camera_inputs = [jpeg_bytes(camera_photo(*shape, seed=s))
                     for s, shape in enumerate(camera_shapes)]
    cameras = [process(data) for data in camera_inputs]
    timings, cpu_times, loads = [], [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        process(camera_inputs[0])
        timings.append(time.perf_counter() - started)
        # CPU seconds of every thread of this process: the cost of the work
        # itself, unlike wall time, which other jobs on a shared box inflate.
        cpu_times.append(time.process_time() - cpu_started)
        loads.append(os.getloadavg()[0])
    figures = {"listing": {}, "camera": {}}
    for label, results in (("listing", listings), ("camera", cameras)):
        for fmt in ("avif", "webp", "jpeg"):
            sizes = [bytes_at(r, fmt, 320) for r in results]
            figures[label][fmt] = (statistics.median(sizes), max(sizes))
    figures["lqip"] = statistics.median(len(r.rendition.placeholder_data)
                                        for r in listings + cameras)
    figures["camera_input"] = statistics.median(len(d) for d in camera_inputs)
    figures["time"] = (statistics.median(timings), min(timings), max(timings))
    figures["cpu"] = statistics.median(cpu_times)
    figures["load"] = statistics.median(loads)
    figures["runs"] = runs
    figures["counts"] = (len(listings), len(cameras))
    figures["all_variants_camera"] = sum(len(v.data) for v in cameras[0].rendition.variants)
    return figures


def machine() -> str:
    model = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
    except (OSError, AttributeError):
        model = platform.processor() or "unknown CPU"
    return (f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
            f"Pillow {Image.__version__}, libavif {features.version('avif')}, "
            f"libwebp {features.version('webp')}")


def render_section(figures: dict) -> str:
    listing, camera = figures["listing"], figures["camera"]
    median_t, fastest, slowest = figures["time"]
    verdict = "within" if max(listing["avif"][1], listing["webp"][1], camera["avif"][1],
                              camera["webp"][1]) <= BUDGET_320 else "OVER"
    n_listing, n_camera = figures["counts"]
    return f"""{SECTION}

Measured by `bench/steps/20-images` (`bench/images_bench.py`) on
{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}.
Reproduce: `make bench`, or `.venv/bin/python bench/images_bench.py` for this
section alone. Inputs are drawn by the script (nothing downloaded): {n_listing}
listing-style product shots (1080-1600 px, square, portrait and landscape,
textured object on a backdrop) and {n_camera} camera-sized 12-megapixel photos
(4000x3000 and 3000x4000)
with texture at every scale and sensor grain (median input
{kb(figures["camera_input"])} as a quality-92 JPEG).

Encoder settings (catalog/images.py): AVIF quality {images.AVIF_OPTIONS["quality"]} speed \
{images.AVIF_OPTIONS["speed"]}, WebP quality {images.WEBP_OPTIONS["quality"]} method \
{images.WEBP_OPTIONS["method"]}, progressive JPEG quality {images.JPEG_OPTIONS["quality"]};
an AVIF or WebP variant over its byte budget ({kb(images.BYTES_AT_320)} at 320w, scaled by
width squared) is re-encoded down the quality ladder (AVIF \
{"/".join(map(str, images.AVIF_QUALITY_LADDER))}, WebP \
{"/".join(map(str, images.WEBP_QUALITY_LADDER))}) until it fits;
master capped at {MASTER_MAX_SIDE} px.

| 320w variant (budget {kb(BUDGET_320)} for AVIF/WebP) | median | largest |
|---|---|---|
| listing shot, AVIF | {kb(listing["avif"][0])} | {kb(listing["avif"][1])} |
| listing shot, WebP | {kb(listing["webp"][0])} | {kb(listing["webp"][1])} |
| listing shot, JPEG (fallback) | {kb(listing["jpeg"][0])} | {kb(listing["jpeg"][1])} |
| 12 MP photo, AVIF | {kb(camera["avif"][0])} | {kb(camera["avif"][1])} |
| 12 MP photo, WebP | {kb(camera["webp"][0])} | {kb(camera["webp"][1])} |
| 12 MP photo, JPEG (fallback) | {kb(camera["jpeg"][0])} | {kb(camera["jpeg"][1])} |

- Every 320w AVIF and WebP is **{verdict}** the {kb(BUDGET_320)} budget.
- Processing one 4000x3000 upload (validate and fully decode, orient, sRGB,
  {MASTER_MAX_SIDE} px master, {len(settings.SHOP_IMAGE_WIDTHS)} widths x \
{len(settings.SHOP_IMAGE_FORMATS)} formats, placeholder):
  median **{median_t:.2f} s** wall clock over {figures["runs"]} runs (fastest \
{fastest:.2f} s, slowest {slowest:.2f} s), **{figures["cpu"]:.2f} s of CPU** (all threads).
  The 1-minute load average during the runs was {figures["load"]:.1f} on \
{os.cpu_count()} cores: wall time above the CPU time is waiting for other jobs.
- All {len(settings.SHOP_IMAGE_WIDTHS) * len(settings.SHOP_IMAGE_FORMATS)} variants of one \
4000x3000 photo together: {kb(figures["all_variants_camera"])}.
- Placeholder data: URI (LQIP): median {figures["lqip"]:.0f} bytes.
"""


def write_section(text: str) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    current = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _m: text + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    tmp = path.with_suffix(".md.tmp-images")
    tmp.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
    tmp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the 4000x3000 upload")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    figures = measure(args.runs)
    text = render_section(figures)
    print(text)
    if not args.no_write:
        write_section(text)
    over = [f"{label} {fmt}" for label in ("listing", "camera") for fmt in ("avif", "webp")
            if figures[label][fmt][1] > BUDGET_320]
    if over:
        print(f"320w budget exceeded: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
