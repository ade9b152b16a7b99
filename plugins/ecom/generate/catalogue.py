"""The product catalogue: categories, subcategories, brands, prices and how popular each product is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ecom.generate import formatting

# category -> (brands, appeal to F / M / U shoppers)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[float, float, float]]] = {
    "apparel": (("Urban Bloom", "Northpeak", "Silk Lane", "Basic Lab"), (1.3, 0.8, 1.0)),
    "beauty": (("Lumi", "Jade Garden", "Petal & Co", "Aqua Pure"), (1.9, 0.4, 1.0)),
    "electronics": (("Xinmi", "Voltra", "Echo Bay", "Pixelon"), (0.7, 1.8, 1.0)),
    "home": (("Casa Mu", "Bamboo Home", "Nordwood"), (1.1, 0.9, 1.0)),
    "food": (("Tea Valley", "Golden Harvest", "Snack Planet"), (1.0, 1.0, 1.0)),
    "mother_baby": (("Little Panda", "Mama Care", "Tiny Steps"), (1.6, 0.6, 1.0)),
    "sports_outdoor": (("Peak Motion", "Trailhead", "Aero Fit"), (0.8, 1.4, 1.0)),
}

# (category, subcategory, median price in yuan, product nouns, search keywords)
SUBCATEGORIES: tuple[tuple[str, str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("apparel", "dresses", 259, ("Midi Dress", "Floral Dress"), ("连衣裙", "dress", "碎花裙")),
    ("apparel", "tops", 129, ("Cotton T-Shirt", "Linen Shirt", "Knit Sweater"), ("t恤", "衬衫", "sweater")),
    (
        "apparel",
        "shoes",
        399,
        ("Running Shoes", "Canvas Sneakers", "Leather Loafers"),
        ("运动鞋", "sneakers", "小白鞋"),
    ),
    (
        "beauty",
        "skincare",
        299,
        ("Hydrating Serum 30ml", "Night Cream 50g", "Sunscreen SPF50"),
        ("精华", "面霜", "防晒", "serum"),
    ),
    (
        "beauty",
        "makeup",
        189,
        ("Matte Lipstick", "Cushion Foundation", "Eyeshadow Palette"),
        ("口红", "气垫", "眼影"),
    ),
    ("electronics", "audio", 499, ("Wireless Earbuds", "Bluetooth Speaker"), ("蓝牙耳机", "earbuds", "音箱")),
    (
        "electronics",
        "phone_accessories",
        79,
        ("Fast Charger 65W", "Power Bank 20000mAh", "Phone Case"),
        ("充电器", "充电宝", "手机壳"),
    ),
    (
        "electronics",
        "small_appliances",
        699,
        ("Air Fryer 5L", "Robot Vacuum", "Hair Dryer"),
        ("空气炸锅", "扫地机器人", "吹风机"),
    ),
    ("home", "kitchen", 149, ("Nonstick Pan 28cm", "Knife Set", "Rice Cooker"), ("不粘锅", "刀具", "电饭煲")),
    (
        "home",
        "bedding",
        329,
        ("Silk Pillowcase", "Duvet 200x230", "Cotton Sheet Set"),
        ("四件套", "被子", "枕头"),
    ),
    ("food", "snacks", 49, ("Mixed Nuts 750g", "Beef Jerky", "Dried Mango"), ("坚果", "零食", "牛肉干")),
    (
        "food",
        "tea_coffee",
        119,
        ("Longjing Green Tea 250g", "Drip Coffee 30 Bags", "Pu'er Cake"),
        ("龙井", "咖啡", "普洱", "tea"),
    ),
    ("mother_baby", "diapers", 159, ("Diapers L 72pcs", "Pull-Ups XL 52pcs"), ("纸尿裤", "拉拉裤")),
    (
        "mother_baby",
        "formula",
        329,
        ("Infant Formula Stage 2 900g", "Toddler Milk Stage 3"),
        ("奶粉", "婴儿奶粉"),
    ),
    ("mother_baby", "toys", 99, ("Building Blocks", "Plush Panda"), ("积木", "玩具", "毛绒玩具")),
    (
        "sports_outdoor",
        "fitness",
        199,
        ("Yoga Mat", "Adjustable Dumbbells", "Resistance Bands"),
        ("瑜伽垫", "哑铃", "yoga mat"),
    ),
    ("sports_outdoor", "outdoor", 459, ("Camping Tent", "Hiking Backpack 40L"), ("帐篷", "露营", "登山包")),
)
PRODUCT_ID_WIDTH = 5


@dataclass(frozen=True)
class Catalogue:
    subcategory: np.ndarray  # index into SUBCATEGORIES
    brand: np.ndarray  # brand names
    noun: np.ndarray  # product nouns
    list_price_cents: np.ndarray
    popularity_by_gender: np.ndarray  # (3, products): purchase probabilities for F, M, U shoppers

    @property
    def size(self) -> int:
        return len(self.subcategory)

    def search_terms(self, products: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A plausible search query that leads to each of `products`."""
        terms = np.empty(len(products), dtype=object)
        for sub_index, (*_, keywords) in enumerate(SUBCATEGORIES):
            rows = self.subcategory[products] == sub_index
            terms[rows] = np.asarray(keywords)[rng.integers(0, len(keywords), int(rows.sum()))]
        return terms.astype(str)


def catalogue_size(customers: int) -> int:
    return min(2000, 120 + customers // 10)


def product_ids(indices: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return formatting.identifiers("P", np.asarray(indices) + 1, PRODUCT_ID_WIDTH, missing)


def build_catalogue(rng: np.random.Generator, products: int) -> Catalogue:
    subcategory = rng.integers(0, len(SUBCATEGORIES), products)
    categories = [SUBCATEGORIES[s][0] for s in subcategory]
    brand = np.array([CATEGORIES[c][0][rng.integers(0, len(CATEGORIES[c][0]))] for c in categories])
    noun = np.array([SUBCATEGORIES[s][3][rng.integers(0, len(SUBCATEGORIES[s][3]))] for s in subcategory])
    median = np.array([SUBCATEGORIES[s][2] for s in subcategory])
    yuan = median * rng.lognormal(0.0, 0.45, products)
    # Shop prices end in 9 or 9.9: 259.00, 89.90.
    list_price_cents = np.where(yuan >= 100, (np.floor(yuan / 10) * 10 + 9) * 100, np.floor(yuan) * 100 + 90)
    appeal = np.array([CATEGORIES[c][1] for c in categories]).T  # (3, products)
    popularity = rng.pareto(1.2, products) + 0.05  # a few best sellers, a long tail
    weights = appeal * popularity
    return Catalogue(
        subcategory=subcategory,
        brand=brand,
        noun=noun,
        list_price_cents=list_price_cents.astype(np.int64),
        popularity_by_gender=weights / weights.sum(axis=1, keepdims=True),
    )


def products_table(catalogue: Catalogue) -> dict[str, pa.Array]:
    everything = np.arange(catalogue.size)
    return {
        "product_id": product_ids(everything),
        "product_name": formatting.text(np.strings.add(np.strings.add(catalogue.brand, " "), catalogue.noun)),
        "category": formatting.text(np.array([SUBCATEGORIES[s][0] for s in catalogue.subcategory])),
        "subcategory": formatting.text(np.array([SUBCATEGORIES[s][1] for s in catalogue.subcategory])),
        "brand": formatting.text(catalogue.brand),
        "list_price": formatting.money(catalogue.list_price_cents),
    }
