"""The demo catalog behind `seed_demo`: data, deterministic listings and their photos.

Everything is derived from the seed and a product's number alone (each listing
has its own random generator), so `--products 30` gives the first 30 listings
of the default 600, and the same seed always gives the same catalog, photos
included (noise comes from Python's seeded generator, not Pillow's).
Photos are drawn with Pillow: nothing is downloaded.
"""

from __future__ import annotations

import io
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from .demo_words import DEMO_SYNONYMS, listing_translations
from .models import Category, Product, Region, SearchSynonym, Seller
from .search import synonyms_forget

# Drawn at 720 px so the pipeline's widest variant is 640 (it never upscales):
# 960 w variants of 600 photos would double the seeding time for no gain.
PHOTO_SIZE = 720
DEMO_ID_PREFIX = "demo-p"
PROGRESS_EVERY = 100

# (code, name, kind, parent code, currency, language)
REGIONS: list[tuple[str, str, str, str | None, str, str]] = [
    ("IN", "India", "country", None, "INR", "hi"),
    ("IN-MH", "Maharashtra", "state", "IN", "", ""),
    ("IN-MH-PUN", "Pune", "city", "IN-MH", "", ""),
    ("IN-MH-MUM", "Mumbai", "city", "IN-MH", "", ""),
    ("IN-UP", "Uttar Pradesh", "state", "IN", "", ""),
    ("IN-UP-LKO", "Lucknow", "city", "IN-UP", "", ""),
    ("IN-DL", "Delhi", "state", "IN", "", ""),
    ("IN-DL-NDL", "New Delhi", "city", "IN-DL", "", ""),
    ("IN-KA", "Karnataka", "state", "IN", "", ""),
    ("IN-KA-BLR", "Bengaluru", "city", "IN-KA", "", ""),
    ("AE", "United Arab Emirates", "country", None, "AED", "ar"),
    ("AE-DU", "Dubai", "state", "AE", "", ""),
    ("AE-DU-DXB", "Dubai City", "city", "AE-DU", "", ""),
    ("NP", "Nepal", "country", None, "NPR", "en"),
    ("NP-BA", "Bagmati", "state", "NP", "", ""),
    ("NP-BA-KTM", "Kathmandu", "city", "NP-BA", "", ""),
]

DIAL_CODES = {"IN": "+91", "AE": "+971", "NP": "+977"}

# Prices below are written in rupees; other currencies are converted with
# these rough rates and rounded to prices a shop would print.
RUPEES_PER_UNIT = {"INR": 1, "AED": 22, "NPR": 0.625}

COLOURS: list[tuple[str, tuple[int, int, int]]] = [
    ("indigo", (52, 62, 140)), ("maroon", (122, 28, 44)), ("mustard", (214, 162, 38)),
    ("teal", (22, 128, 128)), ("rani pink", (214, 40, 118)), ("parrot green", (92, 170, 52)),
    ("off-white", (236, 230, 214)), ("black", (34, 34, 38)), ("peach", (242, 170, 140)),
    ("navy", (28, 40, 84)), ("olive", (110, 120, 48)), ("coral", (238, 104, 86)),
    ("sky blue", (110, 176, 226)), ("lavender", (170, 150, 210)), ("rust", (170, 74, 38)),
]


@dataclass(frozen=True)
class CategoryDef:
    slug: str
    name: str
    icon: str
    parent: str | None = None
    # Leaves carry what listings are made of; top categories have none.
    shape: str = ""
    price_rupees: tuple[int, int] = (0, 0)
    adjectives: tuple[str, ...] = ()
    nouns: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    sentences: tuple[str, ...] = ()
    coloured: bool = True  # whether "{colour}" belongs in the title


CATEGORIES: list[CategoryDef] = [
    CategoryDef("fashion", "Fashion", "👗"),
    CategoryDef(
        "kurtas", "Kurtas", "👚", "fashion", shape="kurta", price_rupees=(299, 1899),
        adjectives=("Chikankari", "Block-print", "Khadi", "Embroidered", "Bandhani",
                    "Handloom", "Printed", "Pintuck"),
        nouns=("cotton kurta", "straight kurta", "A-line kurti", "kurta with pants",
               "rayon kurti", "linen kurta"),
        extras=("for women", "for men", "3/4 sleeves", "festive wear", "daily wear"),
        sentences=(
            "Soft {colour} fabric that stays cool through long summer days.",
            "Hand-finished {adj_lower} work by artisans in small workshops.",
            "Machine washable; colours hold after many washes.",
            "Relaxed fit with side slits and two deep pockets.",
            "Pairs with leggings, palazzos or jeans.",
        ),
    ),
    CategoryDef(
        "sarees", "Sarees", "🥻", "fashion", shape="saree", price_rupees=(499, 4999),
        adjectives=("Banarasi", "Kanjeevaram", "Chanderi", "Georgette", "Cotton silk",
                    "Tussar", "Chiffon", "Bandhani"),
        nouns=("saree", "saree with blouse piece", "silk saree", "party wear saree"),
        extras=("zari border", "woven pallu", "lightweight", "for weddings"),
        sentences=(
            "A {colour} drape with a contrasting woven border.",
            "5.5 m saree with a 0.8 m unstitched blouse piece.",
            "{adj} weave that falls well and is easy to pleat.",
            "Dry clean for the first wash, then gentle hand wash.",
            "Gift-ready folded packing.",
        ),
    ),
    CategoryDef("phones", "Phones & accessories", "📱"),
    CategoryDef(
        "cases", "Cases", "📲", "phones", shape="case", price_rupees=(99, 699),
        adjectives=("Shockproof", "Slim", "Matte", "Transparent", "Silicone", "Flip"),
        nouns=("back cover", "phone case", "bumper case", "wallet case"),
        extras=("for Redmi 13C", "for Galaxy A15", "for Realme C55", "for Vivo Y28",
                "for Moto G34", "for iPhone 13"),
        sentences=(
            "Raised edges protect the screen and camera when the phone falls flat.",
            "{colour} finish that resists fingerprints.",
            "Precise cut-outs for buttons, charging port and speakers.",
            "Fits snugly and adds almost no weight.",
        ),
    ),
    CategoryDef(
        "chargers", "Chargers", "🔌", "phones", shape="charger", price_rupees=(149, 1499),
        adjectives=("Fast", "Dual-port", "Compact", "BIS-certified", "Braided"),
        nouns=("USB-C charger", "20W adapter", "charging cable", "car charger",
               "10000mAh power bank"),
        extras=("1 m cable", "with Type-C cable", "2-pin plug", "6 months warranty"),
        sentences=(
            "Charges a budget phone from 0 to 50% in about half an hour.",
            "Protection against over-voltage, short circuit and overheating.",
            "{adj} design that fits in a pocket or handbag.",
            "Works with most Android phones.",
        ),
        coloured=False,
    ),
    CategoryDef("home-kitchen", "Home & kitchen", "🏠"),
    CategoryDef(
        "cookware", "Cookware", "🍳", "home-kitchen", shape="pot", price_rupees=(199, 2499),
        adjectives=("Non-stick", "Stainless steel", "Cast iron", "Hard-anodised",
                    "Triply", "Aluminium"),
        nouns=("kadai", "tawa", "pressure cooker", "frying pan", "saucepan", "handi"),
        extras=("with lid", "induction friendly", "2 L", "3 L", "24 cm"),
        sentences=(
            "Heats evenly on gas and induction.",
            "{adj} body that lasts for years of daily cooking.",
            "Cool-touch handles and a tight-fitting lid.",
            "Easy to clean; dishwasher safe.",
        ),
        coloured=False,
    ),
    CategoryDef(
        "storage", "Storage", "🫙", "home-kitchen", shape="jar", price_rupees=(149, 999),
        adjectives=("Airtight", "Glass", "BPA-free", "Stackable", "Steel"),
        nouns=("container set", "masala dabba", "jar set", "lunch box", "water bottle"),
        extras=("set of 3", "set of 6", "1 L", "with spoon", "leak-proof"),
        sentences=(
            "Keeps dal, rice and snacks fresh for weeks.",
            "{colour} lids make it easy to find what you need.",
            "Food-grade material, free of odour.",
            "Stacks neatly on a small kitchen shelf.",
        ),
    ),
    CategoryDef("beauty", "Beauty", "💄"),
    CategoryDef(
        "skincare", "Skincare", "🧴", "beauty", shape="bottle", price_rupees=(99, 899),
        adjectives=("Aloe vera", "Vitamin C", "Neem", "Ubtan", "Rose water", "Sandalwood"),
        nouns=("face wash", "moisturiser", "sunscreen SPF 50", "face serum",
               "body lotion", "lip balm"),
        extras=("100 ml", "50 g", "for oily skin", "for all skin types", "paraben-free"),
        sentences=(
            "Gentle enough for daily use, morning and night.",
            "Made with {adj_lower} and no harsh chemicals.",
            "Light texture that absorbs quickly in humid weather.",
            "Dermatologically tested.",
        ),
        coloured=False,
    ),
    CategoryDef("groceries", "Groceries", "🛒"),
    CategoryDef(
        "spices", "Spices", "🌶️", "groceries", shape="bowl", price_rupees=(49, 599),
        adjectives=("Kashmiri", "Organic", "Stone-ground", "Homemade", "Premium"),
        nouns=("red chilli powder", "turmeric powder", "garam masala", "jeera",
               "chole masala", "sambar powder", "elaichi"),
        extras=("100 g", "200 g", "500 g", "no added colour"),
        sentences=(
            "Sun-dried and ground in small batches for a strong aroma.",
            "{adj} quality sourced straight from farms.",
            "Packed in a resealable pouch to stay fresh.",
            "No added colour, salt or preservatives.",
        ),
        coloured=False,
    ),
    CategoryDef("kids", "Kids", "🧸"),
    CategoryDef(
        "toys", "Toys", "🪀", "kids", shape="toy", price_rupees=(99, 1299),
        adjectives=("Wooden", "Soft", "Educational", "Musical", "Colourful"),
        nouns=("teddy bear", "building blocks", "stacking rings", "ball set",
               "puzzle", "rattle"),
        extras=("for 1-3 years", "for 3+ years", "non-toxic colours", "set of 12"),
        sentences=(
            "Rounded edges and non-toxic paint, safe for small hands.",
            "Helps children learn colours, shapes and counting.",
            "{colour} and bright, made to survive being dropped.",
            "A popular birthday gift.",
        ),
    ),
]
LEAVES = {c.slug: c for c in CATEGORIES if c.parent}


@dataclass(frozen=True)
class SellerDef:
    slug: str
    name: str
    region: str
    categories: tuple[str, ...]
    weight: int  # bigger shops list more


SELLERS: list[SellerDef] = [
    SellerDef("pune-handloom-house", "Pune Handloom House", "IN-MH-PUN", ("kurtas", "sarees"), 9),
    SellerDef("lucknow-chikan-studio", "Lucknow Chikan Studio", "IN-UP-LKO", ("kurtas",), 7),
    SellerDef("mumbai-mobile-mart", "Mumbai Mobile Mart", "IN-MH-MUM", ("cases", "chargers"), 9),
    SellerDef("delhi-gadget-point", "Delhi Gadget Point", "IN-DL-NDL", ("cases", "chargers"), 6),
    SellerDef("rasoi-ghar-kitchenware", "Rasoi Ghar Kitchenware", "IN-DL-NDL",
              ("cookware", "storage"), 8),
    SellerDef("bengaluru-home-store", "Bengaluru Home Store", "IN-KA-BLR",
              ("storage", "cookware"), 6),
    SellerDef("glow-naturals", "Glow Naturals", "IN-MH-MUM", ("skincare",), 7),
    SellerDef("masala-mandi", "Masala Mandi", "IN-UP-LKO", ("spices",), 7),
    SellerDef("little-stars-toys", "Little Stars Toys", "IN-KA-BLR", ("toys",), 6),
    SellerDef("varanasi-silk-emporium", "Varanasi Silk Emporium", "IN-UP", ("sarees",), 5),
    SellerDef("dubai-souk-online", "Dubai Souk Online", "AE-DU-DXB",
              ("cases", "chargers", "skincare", "kurtas"), 5),
    SellerDef("kathmandu-bazaar", "Kathmandu Bazaar", "NP-BA-KTM",
              ("spices", "toys", "cookware", "kurtas"), 4),
]
SELLERS_BY_SLUG = {s.slug: s for s in SELLERS}


SPICE_COLOURS = {
    "red chilli powder": (176, 36, 22), "turmeric powder": (228, 168, 22),
    "garam masala": (118, 72, 40), "jeera": (138, 108, 66), "chole masala": (136, 62, 32),
    "sambar powder": (172, 84, 34), "elaichi": (112, 140, 72),
}
SHAPE_COLOURS: dict[str, Callable[[str, random.Random], tuple[int, int, int]]] = {
    "charger": lambda noun, rng: rng.choice([(240, 240, 236), (36, 36, 40), (236, 236, 232)]),
    "pot": lambda noun, rng: rng.choice([(180, 184, 190), (40, 40, 44), (176, 96, 60),
                                         (150, 40, 36)]),
    "bottle": lambda noun, rng: rng.choice([(246, 226, 222), (220, 236, 214), (250, 236, 190),
                                            (214, 226, 246), (248, 248, 244)]),
    "bowl": lambda noun, rng: SPICE_COLOURS[noun],
}


# --- Listings -------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoSpec:
    shape: str
    colour: tuple[int, int, int]
    seed: int
    angle: int  # 0 = the main photo; others are the same item from another view


@dataclass(frozen=True)
class ProductSpec:
    external_id: str
    seller: str
    category: str
    title: str
    description: str
    currency: str
    price_minor: int
    compare_at_minor: int | None
    stock: int
    status: str
    regions: tuple[str, ...]
    age: timedelta  # how long before the seeding time it was listed
    photos: tuple[PhotoSpec, ...] = field(default=())
    # title_hi, title_ar, description_hi, description_ar (sarees and kurtas only)
    translations: dict[str, str] = field(default_factory=dict)


def _region_parent(code: str) -> str | None:
    return next(parent for c, _n, _k, parent, _cur, _lang in REGIONS if c == code)


def _country_of(code: str) -> str:
    while (parent := _region_parent(code)) is not None:
        code = parent
    return code


def _currency_of(code: str) -> str:
    country = _country_of(code)
    return next(cur for c, _n, _k, _p, cur, _l in REGIONS if c == country)


def _shop_price(rupees: float, currency: str) -> int:
    """Return a printable price in minor units: 499.00 INR, 25.00 AED, 790.00 NPR."""
    amount = rupees / RUPEES_PER_UNIT[currency]
    if amount >= 100:
        major = int(amount // 10) * 10 - 1 if currency == "INR" else int(amount // 10) * 10
    else:
        major = max(int(amount), 1)
    return max(major, 1) * 100


def product_spec(index: int, *, seed: int) -> ProductSpec:
    """Return listing number `index` (0-based) of the demo catalog for `seed`."""
    rng = random.Random(f"{seed}:{index}")  # str seeds hash stably across runs
    seller = rng.choices(SELLERS, weights=[s.weight for s in SELLERS])[0]
    cat = LEAVES[rng.choice(seller.categories)]
    colour_name, colour = rng.choice(COLOURS)
    adj = rng.choice(cat.adjectives)
    noun = rng.choice(cat.nouns)
    extra = rng.choice(cat.extras)
    title = f"{adj} {noun}"
    if cat.coloured:
        title += f", {colour_name}"
    if rng.random() < 0.6:
        title += f" ({extra})" if cat.coloured else f", {extra}"
    if not cat.coloured:
        # Chargers are black or white, turmeric is yellow: not any colour goes.
        colour = SHAPE_COLOURS[cat.shape](noun, rng)
    words = {"colour": colour_name, "adj": adj, "adj_lower": adj.lower()}
    sentences = rng.sample(cat.sentences, k=min(3, len(cat.sentences)))
    filled = [s.format(**words) for s in sentences]
    # A sentence may open with a colour name ("indigo and bright, ...").
    description = " ".join(s[0].upper() + s[1:] for s in filled)
    description += " Cash on delivery available."

    currency = _currency_of(seller.region)
    low, high = cat.price_rupees
    # Skewed toward the cheap end, as budget shops are.
    rupees = low + (high - low) * rng.random() ** 2
    price = _shop_price(rupees, currency)
    compare_at = None
    if rng.random() < 0.45:
        compare_at = _shop_price(rupees * rng.uniform(1.15, 1.9), currency)
        if compare_at <= price:
            compare_at = None

    roll = rng.random()
    stock = 0 if roll < 0.08 else rng.randint(1, 5) if roll < 0.25 else rng.randint(6, 250)
    roll = rng.random()
    status = "draft" if roll < 0.05 else "archived" if roll < 0.08 else "active"

    country = _country_of(seller.region)
    if country != "IN":
        # Shops abroad deliver in their own country only.
        regions = (country,)
    else:
        roll = rng.random()
        state = _region_parent(seller.region) if seller.region.count("-") == 2 else seller.region
        regions = (
            () if roll < 0.72
            else ("IN",) if roll < 0.82
            else (state,) if roll < 0.92
            else (seller.region,)
        )

    age = timedelta(seconds=rng.randint(0, 90 * 24 * 3600))
    # Most listings have one photo, some a close-up or two; a draft often has
    # none yet (and each photo costs about half a second of CPU to encode).
    photo_count = 1 if rng.random() < 0.93 else rng.randint(2, 3)
    if status == "draft" and rng.random() < 0.7:
        photo_count = 0
    photos = tuple(
        PhotoSpec(cat.shape, colour, rng.getrandbits(32), angle) for angle in range(photo_count)
    )
    return ProductSpec(
        external_id=f"{DEMO_ID_PREFIX}{index + 1:04d}", seller=seller.slug,
        category=cat.slug, title=title[:140], description=description, currency=currency,
        price_minor=price, compare_at_minor=compare_at, stock=stock, status=status,
        regions=regions, age=age, photos=photos,
        # From what was drawn above, drawing nothing more: the catalog of a
        # seed stays the one it was before listings had translations.
        translations=listing_translations(category=cat.slug, adjective=adj, noun=noun,
                                          colour=colour_name),
    )


# --- Photos ---------------------------------------------------------------------

RGB = tuple[int, int, int]
BACKDROPS: list[tuple[RGB, RGB]] = [
    ((246, 243, 238), (214, 208, 198)), ((238, 244, 248), (196, 210, 222)),
    ((250, 240, 240), (222, 200, 200)), ((238, 246, 238), (200, 218, 202)),
    ((248, 246, 232), (224, 214, 180)), ((242, 240, 248), (208, 204, 226)),
]


def _shade(colour: RGB, factor: float) -> RGB:
    """Return `colour` lightened (factor > 1) or darkened (factor < 1)."""
    if factor >= 1:
        return tuple(min(255, int(c + (255 - c) * (factor - 1))) for c in colour)  # type: ignore[return-value]
    return tuple(int(c * factor) for c in colour)  # type: ignore[return-value]


def _contrast(colour: RGB) -> RGB:
    """Return a trim colour that stands out against `colour` (gold on dark, maroon on light)."""
    return (212, 170, 60) if sum(colour) < 420 else (128, 30, 48)


def _noise(rng: random.Random, size: int, grain: int) -> Image.Image:
    """Return seeded noise upscaled from `size // grain`: mottled for big grains, fine for 1."""
    small = max(8, size // grain)
    tile = Image.frombytes("L", (small, small), rng.randbytes(small * small))
    if small == size:
        return tile
    # The blur melts the upscaled cells into blotches, as uneven light looks.
    return tile.resize((size, size), Image.Resampling.BICUBIC).filter(
        ImageFilter.GaussianBlur(grain / 2)
    )


def _gradient(size: int, start: RGB, end: RGB, angle: float = 0) -> Image.Image:
    """Return a smooth ramp from `start` to `end`, turned by `angle` degrees (0 = top to bottom)."""
    vertical = Image.linear_gradient("L")
    horizontal = vertical.transpose(Image.Transpose.ROTATE_90)
    # A blend of two ramps stays smooth at any angle; rotating one would leave corners.
    ramp = Image.blend(vertical, horizontal, min(abs(angle), 90) / 90)
    ramp = ramp.resize((size, size), Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, black=start, white=end)


def _paint(canvas: Image.Image, mask: Image.Image, colour: RGB, rng: random.Random,
           *, gloss: float = 0.35) -> None:
    """Fill `mask` on `canvas` with a lit, shaded body of `colour`."""
    size = canvas.width
    body = _gradient(size, _shade(colour, 1.25), _shade(colour, 0.62), angle=rng.uniform(20, 70))
    canvas.paste(body, (0, 0), mask.filter(ImageFilter.GaussianBlur(1.2)))
    # A soft specular glow toward the light, clipped to the body.
    x, y, r = size * rng.uniform(0.3, 0.45), size * rng.uniform(0.25, 0.4), size * 0.16
    glow = Image.new("L", canvas.size)
    ImageDraw.Draw(glow).ellipse((x - r, y - r, x + r, y + r), fill=int(255 * gloss))
    glow = glow.filter(ImageFilter.GaussianBlur(size / 14))
    canvas.paste((255, 255, 255), (0, 0), ImageChops.multiply(glow, mask))


def _draw_kurta(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
                rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    flare = rng.uniform(0.27, 0.31)
    pts = [(0.42, 0.14), (0.30, 0.17), (0.15, 0.44), (0.24, 0.47), (0.335, 0.31),
           (flare, 0.87), (1 - flare, 0.87), (0.665, 0.31), (0.76, 0.47), (0.85, 0.44),
           (0.70, 0.17), (0.58, 0.14), (0.5, 0.2)]
    ImageDraw.Draw(mask).polygon([(x * s, y * s) for x, y in pts], fill=255)
    _paint(c, mask, colour, rng, gloss=0.2)
    trim = _contrast(colour)
    # Block-print motifs, drawn on a layer and clipped to the garment.
    motif = Image.new("RGB", c.size, trim)
    motif_mask = Image.new("L", c.size)
    md = ImageDraw.Draw(motif_mask)
    step = int(s * rng.uniform(0.05, 0.08))
    kind = rng.choice(["dot", "diamond", "stripe"])
    for y in range(0, s, step):
        for x in range((y // step) % 2 * step // 2, s, step):
            r = step * 0.16
            if kind == "dot":
                md.ellipse((x - r, y - r, x + r, y + r), fill=150)
            elif kind == "diamond":
                md.polygon([(x, y - r * 1.6), (x + r, y), (x, y + r * 1.6), (x - r, y)], fill=150)
            elif x < step:
                md.rectangle((0, y, s, y + step * 0.18), fill=120)
    c.paste(motif, (0, 0), Image.composite(motif_mask, Image.new("L", c.size), mask))
    d.polygon([(0.42 * s, 0.14 * s), (0.5 * s, 0.2 * s), (0.58 * s, 0.14 * s),
               (0.5 * s, 0.27 * s)], fill=_shade(trim, 0.9))
    d.line([(0.5 * s, 0.27 * s), (0.5 * s, 0.42 * s)], fill=_shade(colour, 0.5), width=3)
    for y in (0.31, 0.36, 0.41):
        d.ellipse((0.49 * s, y * s - 6, 0.51 * s, y * s + 6), fill=trim)
    d.rectangle((flare * s + 4, 0.83 * s, (1 - flare) * s - 4, 0.87 * s), fill=trim)
    return mask


def _draw_saree(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
                rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    trim = _contrast(colour)
    layers = rng.randint(2, 3)
    for i in range(layers):
        top = 0.22 + i * 0.13
        box = (0.18 * s + i * 8, top * s, 0.82 * s - i * 8, (top + 0.34) * s)
        md.rounded_rectangle(box, radius=s * 0.02, fill=255)
        layer = Image.new("L", c.size)
        ImageDraw.Draw(layer).rounded_rectangle(box, radius=s * 0.02, fill=255)
        _paint(c, layer, _shade(colour, 1 - i * 0.08), rng, gloss=0.45)
        band = (box[0], box[3] - s * 0.07, box[2], box[3] - s * 0.02)
        d.rectangle(band, fill=trim)
        for x in range(int(band[0]) + 10, int(band[2]) - 10, 22):
            d.ellipse((x, band[1] + 8, x + 10, band[1] + 18), fill=_shade(trim, 0.7))
        for x in range(int(box[0]) + 30, int(box[2]) - 20, 46):
            d.line([(x, box[1] + 12), (x + 16, box[1] + 28)], fill=_shade(trim, 1.2), width=3)
    return mask


def _draw_case(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
               rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    w = rng.uniform(0.17, 0.2)
    box = ((0.5 - w) * s, 0.1 * s, (0.5 + w) * s, 0.9 * s)
    ImageDraw.Draw(mask).rounded_rectangle(box, radius=s * 0.07, fill=255)
    _paint(c, mask, colour, rng, gloss=0.5)
    cam = (box[0] + s * 0.04, box[1] + s * 0.04, box[0] + s * 0.2, box[1] + s * 0.22)
    d.rounded_rectangle(cam, radius=s * 0.03, fill=_shade(colour, 0.55))
    for cx, cy in ((0.3, 0.28), (0.7, 0.28), (0.3, 0.72)):
        x = cam[0] + (cam[2] - cam[0]) * cx
        y = cam[1] + (cam[3] - cam[1]) * cy
        r = s * 0.028
        d.ellipse((x - r, y - r, x + r, y + r), fill=(24, 24, 30), outline=(90, 90, 96), width=3)
        d.ellipse((x - r / 3, y - r / 2, x, y - r / 6), fill=(200, 210, 230))
    r = s * 0.05
    d.ellipse((s / 2 - r, s * 0.55 - r, s / 2 + r, s * 0.55 + r), outline=_shade(colour, 1.3),
              width=4)
    return mask


def _draw_charger(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
                  rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    box = (0.36 * s, 0.3 * s, 0.64 * s, 0.6 * s)
    md.rounded_rectangle(box, radius=s * 0.04, fill=255)
    _paint(c, mask, colour, rng, gloss=0.4)
    for x in (0.44, 0.54):
        d.rounded_rectangle((x * s, 0.18 * s, (x + 0.025) * s, 0.31 * s), radius=4,
                            fill=(196, 178, 120))
    d.rounded_rectangle((0.46 * s, 0.55 * s, 0.54 * s, 0.575 * s), radius=5, fill=(30, 30, 34))
    cable = _shade(colour, 0.8) if sum(colour) < 300 else (70, 70, 76)
    points = [(0.5 * s + math.sin(t / 6) * s * (0.05 + t * 0.004), 0.6 * s + t * s * 0.006)
              for t in range(0, 48)]
    d.line(points, fill=cable, width=int(s * 0.022), joint="curve")
    md.line(points, fill=255, width=int(s * 0.022))
    return mask


def _draw_pot(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
              rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    md.chord((0.2 * s, 0.18 * s, 0.8 * s, 0.82 * s), 0, 180, fill=255)
    md.ellipse((0.2 * s, 0.44 * s, 0.8 * s, 0.56 * s), fill=255)
    for x0 in (0.1, 0.79):
        md.rounded_rectangle((x0 * s, 0.47 * s, (x0 + 0.11) * s, 0.53 * s), radius=10, fill=255)
    _paint(c, mask, colour, rng, gloss=0.6)
    d.ellipse((0.22 * s, 0.45 * s, 0.78 * s, 0.55 * s), fill=_shade(colour, 0.45),
              outline=_shade(colour, 1.5), width=5)
    if rng.random() < 0.5:  # a lid with its knob
        d.ellipse((0.22 * s, 0.4 * s, 0.78 * s, 0.52 * s), fill=_shade(colour, 1.15),
                  outline=_shade(colour, 0.7), width=3)
        d.ellipse((0.46 * s, 0.37 * s, 0.54 * s, 0.43 * s), fill=(40, 40, 44))
        md.ellipse((0.22 * s, 0.37 * s, 0.78 * s, 0.52 * s), fill=255)
    return mask


def _draw_jar(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
              rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    count = rng.randint(1, 3)
    width = 0.56 / count
    contents = [(236, 196, 90), (244, 240, 226), (124, 74, 42), (200, 120, 50), (150, 160, 70)]
    for i in range(count):
        x0 = 0.22 + i * width + 0.015
        height = rng.uniform(0.38, 0.58)
        top = 0.8 - height
        body = (x0 * s, top * s, (x0 + width - 0.03) * s, 0.8 * s)
        glass = Image.new("L", c.size)
        ImageDraw.Draw(glass).rounded_rectangle(body, radius=s * 0.03, fill=255)
        md.rounded_rectangle(body, radius=s * 0.03, fill=255)
        _paint(c, glass, (226, 232, 236), rng, gloss=0.6)
        fill_top = top + height * rng.uniform(0.2, 0.5)
        d.rounded_rectangle((body[0] + 8, fill_top * s, body[2] - 8, body[3] - 8), radius=s * 0.02,
                            fill=rng.choice(contents))
        lid = (body[0] - 4, body[1] - s * 0.05, body[2] + 4, body[1] + s * 0.01)
        d.rounded_rectangle(lid, radius=8, fill=colour, outline=_shade(colour, 0.7), width=3)
        md.rounded_rectangle(lid, radius=8, fill=255)
    return mask


def _draw_bottle(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
                 rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    w = rng.uniform(0.12, 0.17)
    body = ((0.5 - w) * s, 0.3 * s, (0.5 + w) * s, 0.84 * s)
    md.rounded_rectangle(body, radius=s * rng.uniform(0.03, 0.08), fill=255)
    _paint(c, mask, colour, rng, gloss=0.55)
    cap = rng.choice([(40, 40, 44), (236, 236, 236), (196, 160, 90), _shade(colour, 0.6)])
    neck = (0.45 * s, 0.17 * s, 0.55 * s, 0.31 * s)
    d.rounded_rectangle(neck, radius=8, fill=cap)
    md.rounded_rectangle(neck, radius=8, fill=255)
    if rng.random() < 0.5:  # a pump
        d.rectangle((0.49 * s, 0.12 * s, 0.51 * s, 0.17 * s), fill=cap)
        d.rounded_rectangle((0.44 * s, 0.1 * s, 0.6 * s, 0.13 * s), radius=5, fill=cap)
    label = (body[0] + 14, 0.46 * s, body[2] - 14, 0.7 * s)
    d.rectangle(label, fill=_shade(colour, 1.4))
    accent = _contrast(colour)
    d.rectangle((label[0] + 10, label[1] + 16, label[2] - 10, label[1] + 30), fill=accent)
    for i in range(3):
        y = label[1] + 50 + i * 20
        d.rectangle((label[0] + 14, y, label[2] - 14 - i * 18, y + 6), fill=(120, 120, 120))
    return mask


def _draw_bowl(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
               rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    heap = Image.new("L", c.size)
    ImageDraw.Draw(heap).chord((0.24 * s, 0.32 * s, 0.76 * s, 0.72 * s), 180, 360, fill=255)
    _paint(c, heap, colour, rng, gloss=0.15)
    # Powder is grainy: scatter darker and lighter specks over the heap.
    grains = Image.new("RGB", c.size, _shade(colour, 0.6))
    c.paste(grains, (0, 0), Image.composite(_noise(rng, s, 1).point(lambda v: 90 if v > 200 else 0),
                                             Image.new("L", c.size), heap))
    bowl = rng.choice([(184, 134, 60), (170, 90, 60), (200, 202, 206)])
    body = Image.new("L", c.size)
    ImageDraw.Draw(body).chord((0.2 * s, 0.3 * s, 0.8 * s, 0.82 * s), 0, 180, fill=255)
    _paint(c, body, bowl, rng, gloss=0.55)
    d.ellipse((0.2 * s, 0.5 * s, 0.8 * s, 0.6 * s), outline=_shade(bowl, 0.7), width=6)
    for _ in range(40):
        x, y = rng.uniform(0.1, 0.9) * s, rng.uniform(0.8, 0.92) * s
        r = rng.uniform(2, 6)
        d.ellipse((x - r, y - r / 2, x + r, y + r / 2), fill=_shade(colour, rng.uniform(0.7, 1.1)))
    md.bitmap((0, 0), heap, fill=255)
    md.bitmap((0, 0), body, fill=255)
    return mask


def _draw_toy(c: Image.Image, d: ImageDraw.ImageDraw, s: int, colour: RGB,
              rng: random.Random) -> Image.Image:
    mask = Image.new("L", c.size)
    md = ImageDraw.Draw(mask)
    if rng.random() < 0.5:  # a teddy bear made of circles
        parts = [(0.5, 0.62, 0.2), (0.5, 0.33, 0.15), (0.38, 0.2, 0.06), (0.62, 0.2, 0.06),
                 (0.3, 0.56, 0.07), (0.7, 0.56, 0.07), (0.38, 0.8, 0.08), (0.62, 0.8, 0.08)]
        for x, y, r in parts:
            md.ellipse(((x - r) * s, (y - r) * s, (x + r) * s, (y + r) * s), fill=255)
        _paint(c, mask, colour, rng, gloss=0.25)
        light = _shade(colour, 1.45)
        d.ellipse((0.43 * s, 0.35 * s, 0.57 * s, 0.45 * s), fill=light)
        d.ellipse((0.42 * s, 0.6 * s, 0.58 * s, 0.74 * s), fill=light)
        for x in (0.44, 0.56):
            d.ellipse(((x - 0.018) * s, 0.28 * s, (x + 0.018) * s, 0.316 * s), fill=(20, 20, 20))
        d.ellipse((0.48 * s, 0.37 * s, 0.52 * s, 0.4 * s), fill=(40, 24, 20))
    else:  # stacking rings on a peg, one colour each
        hues = [colour, (230, 60, 50), (250, 180, 40), (60, 160, 90), (50, 110, 200)]
        for i, hue in enumerate(hues):
            w = 0.3 - i * 0.045
            y = 0.78 - i * 0.1
            ring = Image.new("L", c.size)
            ImageDraw.Draw(ring).ellipse(((0.5 - w) * s, (y - 0.06) * s, (0.5 + w) * s,
                                          (y + 0.06) * s), fill=255)
            _paint(c, ring, hue, rng, gloss=0.5)
            md.bitmap((0, 0), ring, fill=255)
        d.rounded_rectangle((0.47 * s, 0.22 * s, 0.53 * s, 0.3 * s), radius=10,
                            fill=(200, 150, 90))
    return mask


SHAPES: dict[str, Callable[..., Image.Image]] = {
    "kurta": _draw_kurta, "saree": _draw_saree, "case": _draw_case,
    "charger": _draw_charger, "pot": _draw_pot, "jar": _draw_jar, "bottle": _draw_bottle,
    "bowl": _draw_bowl, "toy": _draw_toy,
}


def draw_photo(spec: PhotoSpec, *, size: int = PHOTO_SIZE) -> bytes:
    """Return a JPEG of a product in `spec`'s shape and colour on a studio backdrop."""
    rng = random.Random(spec.seed)
    top, bottom = rng.choice(BACKDROPS)
    canvas = _gradient(size, top, bottom)
    # A soft contact shadow grounds the item on the backdrop.
    shadow = Image.new("L", canvas.size)
    ImageDraw.Draw(shadow).ellipse((0.2 * size, 0.8 * size, 0.8 * size, 0.93 * size), fill=110)
    canvas.paste((60, 50, 40), (0, 0), shadow.filter(ImageFilter.GaussianBlur(size // 30)))
    SHAPES[spec.shape](canvas, ImageDraw.Draw(canvas), size, spec.colour, rng)
    # Mottled light and a fine grain, so it reads as a photo and not a flat swatch.
    lighter = canvas.point(lambda v: min(255, v + 12))
    darker = canvas.point(lambda v: max(0, v - 12))
    canvas = Image.composite(lighter, darker, _noise(rng, size, 24))
    canvas = Image.composite(canvas.point(lambda v: min(255, v + 4)),
                             canvas.point(lambda v: max(0, v - 4)), _noise(rng, size, 1))
    if spec.angle:
        # Other views: a close-up of the same item, from a different corner.
        zoom = 1.35 + 0.25 * spec.angle
        box = size / zoom
        x0 = rng.uniform(0.1, 0.9) * (size - box)
        y0 = rng.uniform(0.15, 0.6) * (size - box)
        canvas = canvas.resize((size, size), Image.Resampling.BICUBIC,
                               box=(x0, y0, x0 + box, y0 + box))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90, optimize=False)
    return out.getvalue()


# --- Seeding ----------------------------------------------------------------------


@dataclass
class SeedResult:
    regions: int = 0
    categories: int = 0
    sellers: int = 0
    products: int = 0
    photos: int = 0
    synonyms: int = 0

    def total(self) -> int:
        return (self.regions + self.categories + self.sellers + self.products + self.photos
                + self.synonyms)


def _say(stdout: TextIO | None, message: str) -> None:
    if stdout is not None:
        stdout.write(message + "\n")
        stdout.flush()


@transaction.atomic
def regions_ensure() -> tuple[dict[str, Region], int]:
    """Return the demo regions by code, creating the missing ones, and how many were new."""
    existing = {r.code: r for r in Region.objects.filter(code__in=[r[0] for r in REGIONS])}
    created = 0
    # REGIONS lists every parent before its children, so parents exist by then.
    for code, name, kind, parent, currency, language in REGIONS:
        if code in existing:
            continue
        region = Region(code=code, name=name, kind=kind, parent=existing.get(parent or ""),
                        currency=currency, language=language)
        region.full_clean()
        region.save()
        existing[code] = region
        created += 1
    return existing, created


@transaction.atomic
def categories_ensure() -> tuple[dict[str, Category], int]:
    """Return the demo categories by slug, creating the missing ones, and how many were new."""
    existing = {c.slug: c for c in Category.objects.filter(slug__in=[c.slug for c in CATEGORIES])}
    created = 0
    for position, definition in enumerate(CATEGORIES):
        if definition.slug in existing:
            continue
        category = Category(name=definition.name, slug=definition.slug, icon=definition.icon,
                            parent=existing.get(definition.parent or ""), position=position)
        category.full_clean()
        category.save()
        existing[definition.slug] = category
        created += 1
    return existing, created


@transaction.atomic
def synonyms_ensure() -> int:
    """Create the demo's search synonyms that are missing; return how many were new.

    By (concept, language): a row staff changed is theirs and stays as it is.
    """
    existing = set(SearchSynonym.objects.values_list("concept", "language"))
    created = []
    for concept, language, words in DEMO_SYNONYMS:
        if (concept, language) in existing:
            continue
        synonym = SearchSynonym(concept=concept, language=language, words=words)
        synonym.full_clean()
        created.append(synonym)
    SearchSynonym.objects.bulk_create(created)
    # bulk_create sends no post_save: searches must still see the new words.
    transaction.on_commit(synonyms_forget)
    return len(created)


def sellers_ensure(regions: dict[str, Region]) -> tuple[dict[str, Seller], int]:
    """Return the demo sellers by slug, creating the missing ones, and how many were new.

    Each gets a staff login through `seller_create` (so it lands in the Sellers
    group like any real seller) with a random password nobody knows: a demo
    must not open the admin with a published password. Set one with
    `manage.py changepassword <slug>` to try the seller admin.
    """
    from .services.sellers import seller_create

    existing = {s.slug: s for s in Seller.objects.filter(slug__in=list(SELLERS_BY_SLUG))}
    created = 0
    for number, definition in enumerate(SELLERS, start=1):
        if definition.slug in existing:
            continue
        seller = seller_create(
            username=definition.slug, email=f"{definition.slug}@example.com",
            password=secrets.token_urlsafe(24), display_name=definition.name,
            region=regions[definition.region],
            phone=f"{DIAL_CODES[_country_of(definition.region)]}98000{number:05d}", verified=True,
        )
        if seller.slug != definition.slug:
            # The slug is our natural key: a different one would make every
            # later run create this seller again.
            raise RuntimeError(f"seller {definition.name!r} got slug {seller.slug!r}")
        existing[definition.slug] = seller
        created += 1
    return existing, created


def _demo_products(sellers: dict[str, Seller]):
    return Product.objects.filter(
        seller__in=list(sellers.values()), external_id__startswith=DEMO_ID_PREFIX
    )


def products_ensure(
    specs: list[ProductSpec], *, sellers: dict[str, Seller], categories: dict[str, Category],
    regions: dict[str, Region], now: datetime, stdout: TextIO | None, batch_size: int = 500,
) -> int:
    """Create the listings of `specs` that do not exist yet (by external id); return how many."""
    existing = set(_demo_products(sellers).values_list("external_id", flat=True))
    missing = [spec for spec in specs if spec.external_id not in existing]
    through = Product.regions.through
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        with transaction.atomic():
            rows = []
            for spec in batch:
                product = Product(
                    seller=sellers[spec.seller], category=categories[spec.category],
                    title=spec.title, description=spec.description, currency=spec.currency,
                    price_minor=spec.price_minor, compare_at_minor=spec.compare_at_minor,
                    stock=spec.stock, status=spec.status, external_id=spec.external_id,
                    created_at=now - spec.age, **spec.translations,
                )
                # Foreign keys and uniqueness are the database's to check in bulk;
                # the field rules (lengths, choices, signs) are checked here.
                product.full_clean(exclude=["seller", "category"], validate_unique=False,
                                   validate_constraints=False)
                rows.append(product)
            Product.objects.bulk_create(rows)
            # Read the ids back rather than trust bulk_create to set them:
            # not every backend returns ids from a bulk insert.
            ids = dict(
                _demo_products(sellers)
                .filter(external_id__in=[spec.external_id for spec in batch])
                .values_list("external_id", "pk")
            )
            through.objects.bulk_create([
                through(product_id=ids[spec.external_id], region_id=regions[code].pk)
                for spec in batch for code in spec.regions
            ])
        _say(stdout, f"  products: {start + len(batch)}/{len(missing)} created")
    return len(missing)


@dataclass(frozen=True)
class _PhotoJob:
    product_id: int
    external_id: str
    title: str
    photo: PhotoSpec


def _photo_jobs(specs: list[ProductSpec], sellers: dict[str, Seller]) -> list[_PhotoJob]:
    """Return the photos still to add: those of listings that have none yet.

    A run interrupted half way through the photos is completed by the next one.
    """
    wanted = {spec.external_id: spec for spec in specs}
    bare = _demo_products(sellers).filter(images__isnull=True).values_list("external_id", "pk")
    return [
        _PhotoJob(pk, external_id, wanted[external_id].title, photo)
        for external_id, pk in sorted(bare)
        if external_id in wanted
        for photo in wanted[external_id].photos
    ]


def demo_photo_add(*, product_id: int, external_id: str, title: str, photo: dict) -> bool:
    """Draw one demo photo, add it through the image pipeline and render it; False if it exists.

    Idempotent by (product, position): a task killed after adding the photo,
    or a second task for the same photo (seed_demo run again before the worker
    caught up, on another worker), adds nothing.
    """
    from .services.images import product_image_add, product_image_render

    spec = PhotoSpec(shape=photo["shape"], colour=tuple(photo["colour"]), seed=photo["seed"],
                     angle=photo["angle"])
    if not Product.objects.filter(pk=product_id).exists():
        return False
    alt = title if not spec.angle else f"{title}, close-up {spec.angle}"
    upload = SimpleUploadedFile(
        f"{external_id}-{spec.angle + 1}.jpg", draw_photo(spec), content_type="image/jpeg",
    )
    with transaction.atomic():
        # The product row lock makes "is it there yet? add it" one step across workers.
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None or product.images.filter(position=spec.angle).exists():
            return False
        image = product_image_add(product=product, upload=upload, alt_text=alt[:200],
                                  position=spec.angle)
    # Rendered here, not behind every other photo's drawing in the queue, so
    # the demo's photos fill in one by one (the render task it queued finds
    # the work done).
    product_image_render(image_id=image.pk)
    return True


def photos_ensure(
    specs: list[ProductSpec], *, sellers: dict[str, Seller], stdout: TextIO | None,
) -> int:
    """Queue the drawing of the missing photos for the task worker; return how many.

    Drawing (70 ms a photo) and encoding every variant (about 0.3 s) are the
    worker's: `make run` serves the shop while the photos fill in, and a
    listing shows its placeholder tile until its first photo is ready.
    """
    from .tasks import demo_photo_task

    jobs = _photo_jobs(specs, sellers)
    started = time.monotonic()
    for done, job in enumerate(jobs, start=1):
        demo_photo_task.enqueue(
            product_id=job.product_id, external_id=job.external_id, title=job.title,
            photo={"shape": job.photo.shape, "colour": list(job.photo.colour),
                   "seed": job.photo.seed, "angle": job.photo.angle},
        )
        if done % PROGRESS_EVERY == 0 or done == len(jobs):
            seconds = time.monotonic() - started
            _say(stdout, f"  photos: {done}/{len(jobs)} queued ({seconds:.1f} s)")
    return len(jobs)


def seed_catalog(
    *, products: int, seed: int, stdout: TextIO | None = None, now: datetime | None = None,
) -> SeedResult:
    """Create whatever of the demo catalog is missing; return how many rows of each were new."""
    now = now or timezone.now()
    result = SeedResult()
    regions, result.regions = regions_ensure()
    _say(stdout, f"regions: {len(regions)} ({result.regions} new)")
    categories, result.categories = categories_ensure()
    _say(stdout, f"categories: {len(categories)} ({result.categories} new)")
    result.synonyms = synonyms_ensure()
    _say(stdout, f"search synonyms: {len(DEMO_SYNONYMS)} ({result.synonyms} new)")
    sellers, result.sellers = sellers_ensure(regions)
    _say(stdout, f"sellers: {len(sellers)} ({result.sellers} new)")
    specs = [product_spec(index, seed=seed) for index in range(products)]
    result.products = products_ensure(specs, sellers=sellers, categories=categories,
                                      regions=regions, now=now, stdout=stdout)
    _say(stdout, f"products: {len(specs)} ({result.products} new)")
    result.photos = photos_ensure(specs, sellers=sellers, stdout=stdout)
    _say(stdout, f"photos: {result.photos} new, drawn and encoded by the task worker")
    return result
