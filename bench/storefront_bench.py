"""Storefront figures: Lighthouse (mobile, default throttling) and first-view bytes.

Run by bench/steps/40-storefront against a running shop (STOREFRONT_BENCH_URL);
writes the "## Storefront" section of docs/BENCHMARKS.md. Runs outside Django.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sections import write_section  # noqa: E402

URL = os.environ.get("STOREFRONT_BENCH_URL", "http://127.0.0.1:8100")
WORK = Path(os.environ.get("STOREFRONT_BENCH_WORK") or tempfile.mkdtemp())
PRODUCTS = os.environ.get("STOREFRONT_BENCH_PRODUCTS", "?")
RUNS = int(os.environ.get("STOREFRONT_BENCH_LIGHTHOUSE_RUNS", "3"))
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
LIGHTHOUSE = ROOT / "bench" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
VIEWPORT = {"width": 360, "height": 640}


def lighthouse_run(index: int) -> dict:
    out = WORK / f"lighthouse-{index}.json"
    subprocess.run(  # noqa: S603 - our own Lighthouse with fixed arguments
        [str(LIGHTHOUSE), URL + "/", "--quiet", "--output=json", f"--output-path={out}",
         "--only-categories=performance,accessibility",
         "--chrome-flags=" + " ".join(CHROME_FLAGS)],
        check=True, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300,
    )
    report = json.loads(out.read_text())
    # Kept for inspection (bench/results/ is gitignored): long tasks, main-thread work.
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"storefront-lighthouse-{index}.json").write_text(out.read_text())
    audits = report["audits"]
    failed_a11y = sorted(
        audits[ref["id"]]["title"]
        for ref in report["categories"]["accessibility"]["auditRefs"]
        if ref.get("weight") and audits[ref["id"]].get("score") not in (None, 1)
    )
    return {
        "performance": round(report["categories"]["performance"]["score"] * 100),
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt": audits["total-blocking-time"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "failed_a11y": failed_a11y,
        "version": report["lighthouseVersion"],
    }


def first_view(*, dpr: float, save_data: bool) -> dict:
    """Return the bytes on the wire for the first view at 360x640 (a new shopper)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROME, args=CHROME_FLAGS)
        context = browser.new_context(
            viewport=VIEWPORT, device_scale_factor=dpr, is_mobile=True, has_touch=True,
            extra_http_headers={"Save-Data": "on"} if save_data else None,
        )
        page = context.new_page()
        finished = []
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(URL + "/", wait_until="load")
        page.wait_for_load_state("networkidle")
        above = set(page.evaluate(
            """() => [...document.images].filter(i => {
                 const r = i.getBoundingClientRect();
                 return r.bottom > 0 && r.top < innerHeight && i.currentSrc;
               }).map(i => i.currentSrc)"""
        ))
        sizes: dict[str, int] = {"document": 0, "stylesheet": 0, "script": 0,
                                 "image above the fold": 0, "image below the fold": 0,
                                 "other": 0}
        for request in finished:
            body = request.sizes()["responseBodySize"]
            kind = request.resource_type
            if kind == "image":
                kind = "image above the fold" if request.url in above else "image below the fold"
            elif kind not in sizes:
                kind = "other"
            sizes[kind] += body
        context.close()
        browser.close()
    sizes["first view"] = (sizes["document"] + sizes["stylesheet"] + sizes["script"]
                           + sizes["image above the fold"])
    sizes["images above the fold"] = len(above)
    return sizes


def feed_html_gzip() -> tuple[int, int, int]:
    request = urllib.request.Request(  # noqa: S310 - our own server
        URL + "/", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
        wire = response.read()
        encoding = response.headers.get("Content-Encoding")
    html = gzip.decompress(wire) if encoding == "gzip" else wire
    cards = html.count(b'<li class="card"')
    return len(wire), len(html), cards


def js_gzip() -> int:
    static = WORK / "staticfiles" / "shop"
    app = min(static.glob("app.*.js.gz"), key=lambda p: p.stat().st_mtime, default=None)
    app_bytes = app.stat().st_size if app else len(
        gzip.compress((ROOT / "static" / "shop" / "app.js").read_bytes(), 9))
    request = urllib.request.Request(  # noqa: S310 - our own server
        URL + "/sw.js", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
        worker = len(response.read())
    return app_bytes + worker


def kb(n: float) -> str:
    return f"{n / 1024:.1f} KB"


def main() -> None:
    runs = [lighthouse_run(i) for i in range(RUNS)]
    median = {key: statistics.median(r[key] for r in runs)
              for key in ("performance", "accessibility", "fcp", "lcp", "cls", "tbt", "bytes")}
    views = {
        "DPR 2": first_view(dpr=2, save_data=False),
        "DPR 1": first_view(dpr=1, save_data=False),
        "DPR 2, Save-Data: on": first_view(dpr=2, save_data=True),
    }
    wire, raw, cards = feed_html_gzip()
    js = js_gzip()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    failed = sorted({title for r in runs for title in r["failed_a11y"]})

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        "## Storefront",
        "",
        f"Measured by `bench/steps/40-storefront` (`bench/storefront_bench.py`) on {now};",
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Lighthouse {runs[0]['version']}, Debian Chromium headless. The shop is the "
        f"`seed_demo` catalog ({PRODUCTS} listings with Pillow-drawn photos) in a scratch SQLite",
        "file, after `collectstatic`, served by gunicorn (2 sync workers) on 127.0.0.1. "
        f"1-minute load average at the end: {load:.1f}.",
        "Reproduce: `make bench`, or `bench/steps/40-storefront` for this section alone.",
        "",
        f"Lighthouse, mobile preset with its default (simulated 4G, 4x CPU slowdown) throttling, "
        f"first visit of a new shopper to `/`; median of {len(runs)} runs "
        f"(each run: performance {', '.join(str(r['performance']) for r in runs)}).",
        "",
        "| metric | median | goal | |",
        "|---|---|---|---|",
        f"| performance | {median['performance']:.0f} | 100 | "
        f"{verdict(median['performance'] >= 100)} |",
        f"| accessibility | {median['accessibility']:.0f} | >= 95 | "
        f"{verdict(median['accessibility'] >= 95)} |",
        f"| first contentful paint | {median['fcp'] / 1000:.2f} s | | |",
        f"| largest contentful paint | {median['lcp'] / 1000:.2f} s | | |",
        f"| cumulative layout shift | {median['cls']:.3f} | 0 | {verdict(median['cls'] == 0)} |",
        f"| total blocking time | {median['tbt']:.0f} ms | | |",
        f"| bytes loaded (Lighthouse's 412 px viewport) | {kb(median['bytes'])} | | |",
        "",
    ]
    if failed:
        lines += ["Accessibility audits not passed in some run: " + "; ".join(failed) + ".", ""]
    lines += [
        "First view at 360x640 in headless Chromium (bytes on the wire, compressed): the HTML "
        "with its inline CSS, the deferred script, and the pictures that intersect the first "
        "screen. Pictures below the fold that the browser loads anyway are shown apart.",
        "",
        "| screen | HTML | JS | images above the fold | first view | goal <= 60 KB | "
        "images below the fold | other (manifest, icon) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, view in views.items():
        lines.append(
            f"| {name} | {kb(view['document'])} | {kb(view['script'])} | "
            f"{kb(view['image above the fold'])} ({view['images above the fold']}) | "
            f"**{kb(view['first view'])}** | {verdict(view['first view'] <= 60 * 1024)} | "
            f"{kb(view['image below the fold'])} | {kb(view['other'])} |"
        )
    lines += [
        "",
        f"- Feed HTML, first page ({cards} cards) with its inline critical CSS: {kb(raw)} "
        f"raw, **{kb(wire)} gzip** on the wire (budget 14 KB: "
        f"{verdict(wire <= 14 * 1024)}); Brotli is used when the browser offers it (HTTPS).",
        f"- All JavaScript (app.js + the service worker), compressed: **{kb(js)}** "
        f"(budget 3 KB: {verdict(js <= 3 * 1024)}).",
        "- No render-blocking request (CSS inline, one deferred script) and no other origin: "
        "both are also ordinary tests (`tests/storefront/test_feed.py`, "
        "`tests/storefront/test_http_and_pwa.py`).",
    ]
    write_section("## Storefront", "\n".join(lines) + "\n")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
