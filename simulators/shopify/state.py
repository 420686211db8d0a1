"""The simulated shop's catalogue: products, variants and media, kept in memory.

Ids are numeric above 2**53 (as on large real shops) and travel as global ids
(``gid://shopify/Product/N``). ``updated_at`` has second precision, like
Shopify's ``updatedAt``, so several products can share one timestamp.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from simulators.catalogue import SeedImage, SeedProduct

PRODUCT_ID_BASE = 10**16
VARIANT_ID_BASE = 4 * 10**16
MEDIA_ID_BASE = 7 * 10**16
PLACEHOLDER_SIZE = 512

GID_PATTERN = re.compile(r"^gid://shopify/(\w+)/(\d+)$")


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def parse_gid(value: str, kind: str | None = None) -> int | None:
    """Return the number of a global id, or None when it is not one (of ``kind``)."""
    match = GID_PATTERN.match(value or "")
    if match is None or (kind is not None and match.group(1) != kind):
        return None
    return int(match.group(2))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SimMedia:
    """A MediaImage: a file in the shop's Files, referenced by products and variants."""

    id: int
    filename: str
    alt: str
    source: str
    created_at: datetime
    updated_at: datetime
    status: str = "UPLOADED"
    error: tuple[str, str] | None = None
    data: bytes | None = None
    # Draw a placeholder with this name on first download instead of holding bytes.
    placeholder: str | None = None
    width: int | None = None
    height: int | None = None
    mime: str = "image/png"
    product_ids: list[int] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return gid("MediaImage", self.id)


@dataclass
class SimVariant:
    id: int
    title: str
    sku: str
    price: str
    options: dict[str, str]
    updated_at: datetime
    media_ids: list[int] = field(default_factory=list)


@dataclass
class SimProduct:
    id: int
    title: str
    handle: str
    product_type: str
    vendor: str
    tags: list[str]
    status: str
    description: str
    created_at: datetime
    updated_at: datetime
    media_ids: list[int] = field(default_factory=list)
    variants: list[SimVariant] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return gid("Product", self.id)


def handle_for(title: str) -> str:
    words = re.findall(r"\w+", title.lower())
    return "-".join(words) or "product"


class Catalogue:
    """Products in id order plus an index sorted by ``(updated_at, id)`` for incremental reads."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.products: dict[int, SimProduct] = {}
        self.media: dict[int, SimMedia] = {}
        self.variants: dict[int, tuple[SimProduct, SimVariant]] = {}
        self._by_updated: list[tuple[datetime, int]] = []
        self._ids: list[int] = []
        self._next = {
            "product": PRODUCT_ID_BASE,
            "variant": VARIANT_ID_BASE,
            "media": MEDIA_ID_BASE,
        }
        self.clock = clock or (lambda: datetime.now(UTC).replace(microsecond=0))
        # Called with the product after every change (the webhook sender listens here).
        self.on_change: Callable[[SimProduct, str], None] | None = None

    def next_id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def now(self) -> datetime:
        return self.clock()

    # Products

    def add_product(self, product: SimProduct) -> SimProduct:
        self.products[product.id] = product
        self._ids.append(product.id)
        bisect.insort(self._by_updated, (product.updated_at, product.id))
        for variant in product.variants:
            self.variants[variant.id] = (product, variant)
        return product

    def touch(self, product: SimProduct, topic: str = "products/update") -> None:
        """Stamp ``product`` as changed now, re-index it and tell the listener."""
        old = (product.updated_at, product.id)
        index = bisect.bisect_left(self._by_updated, old)
        if index < len(self._by_updated) and self._by_updated[index] == old:
            del self._by_updated[index]
        product.updated_at = self.now()
        bisect.insort(self._by_updated, (product.updated_at, product.id))
        if self.on_change is not None:
            self.on_change(product, topic)

    def delete_product(self, product_id: int) -> SimProduct | None:
        product = self.products.pop(product_id, None)
        if product is None:
            return None
        self._ids.remove(product_id)
        self._by_updated.remove((product.updated_at, product.id))
        for variant in product.variants:
            self.variants.pop(variant.id, None)
        if self.on_change is not None:
            self.on_change(product, "products/delete")
        return product

    def ordered(
        self, sort_key: str, after: tuple[str, int] | None, reverse: bool
    ) -> Iterator[SimProduct]:
        """Yield products in ``sort_key`` order strictly after the keyset position ``after``."""
        if sort_key == "UPDATED_AT":
            keys: list[tuple[object, int]] = list(self._by_updated)
            yield from self._walk(keys, after, reverse, lambda text: datetime.fromisoformat(text))
            return
        if sort_key == "ID":
            id_keys = [(number, number) for number in self._ids] if reverse else None
            yield from self._walk_ids(after, reverse, id_keys)
            return
        products = sorted(
            self.products.values(), key=lambda p: (sort_value(p, sort_key), p.id), reverse=reverse
        )
        started = after is None
        for product in products:
            if started:
                yield product
            elif after is not None and product.id == after[1]:
                started = True

    def _walk(
        self,
        keys: list[tuple[object, int]],
        after: tuple[str, int] | None,
        reverse: bool,
        parse: Callable[[str], object],
    ) -> Iterator[SimProduct]:
        if after is None:
            indices = range(len(keys) - 1, -1, -1) if reverse else range(len(keys))
        else:
            position = (parse(after[0]), after[1])
            if reverse:
                start = bisect.bisect_left(keys, position) - 1
                indices = range(start, -1, -1)
            else:
                start = bisect.bisect_right(keys, position)
                indices = range(start, len(keys))
        for index in indices:
            if index >= len(keys):
                return
            product = self.products.get(keys[index][1])
            if product is not None:
                yield product

    def _walk_ids(
        self, after: tuple[str, int] | None, reverse: bool, _keys: object
    ) -> Iterator[SimProduct]:
        ids = self._ids
        if reverse:
            start = len(ids) - 1 if after is None else bisect.bisect_left(ids, after[1]) - 1
            indices: range = range(start, -1, -1)
        else:
            start = 0 if after is None else bisect.bisect_right(ids, after[1])
            indices = range(start, len(ids))
        for index in indices:
            product = self.products.get(ids[index])
            if product is not None:
                yield product

    # Media

    def new_media(self, filename: str, alt: str, source: str) -> SimMedia:
        now = self.now()
        media = SimMedia(self.next_id("media"), filename, alt, source, now, now)
        self.media[media.id] = media
        return media

    def attach(self, media: SimMedia, product: SimProduct) -> None:
        if media.id not in product.media_ids:
            product.media_ids.append(media.id)
        if product.id not in media.product_ids:
            media.product_ids.append(product.id)

    def detach(self, media: SimMedia, product: SimProduct) -> None:
        if media.id in product.media_ids:
            product.media_ids.remove(media.id)
        if product.id in media.product_ids:
            media.product_ids.remove(product.id)
        for variant in product.variants:
            if media.id in variant.media_ids:
                variant.media_ids.remove(media.id)

    def product_media(self, product: SimProduct) -> list[SimMedia]:
        return [self.media[number] for number in product.media_ids if number in self.media]

    # Seeding

    def load_seed(
        self, seeds: list[SeedProduct], *, at: datetime | None = None
    ) -> list[SimProduct]:
        """Add neutral catalogue records; images are drawn on first download, never fetched."""
        stamp = at or self.now()
        return [self._product_from_seed(seed, stamp) for seed in seeds]

    def _product_from_seed(self, seed: SeedProduct, stamp: datetime) -> SimProduct:
        product = SimProduct(
            id=self.next_id("product"),
            title=seed.title,
            handle=handle_for(seed.title),
            product_type=seed.product_type or (seed.categories[0][-1] if seed.categories else ""),
            vendor=seed.vendor,
            tags=list(seed.tags),
            status=seed_status(seed.status),
            description=seed.description,
            created_at=stamp,
            updated_at=stamp,
        )
        by_name: dict[str, SimMedia] = {}
        for image in seed.images:
            self.attach(self._seed_media(image, seed.title, stamp, by_name), product)

        variants = seed.variants or []
        for seed_variant in variants:
            variant = SimVariant(
                id=self.next_id("variant"),
                title=seed_variant.title,
                sku=seed_variant.sku,
                price=seed_variant.price,
                options=dict(seed_variant.options),
                updated_at=stamp,
            )
            if seed_variant.image is not None:
                media = self._seed_media(seed_variant.image, seed.title, stamp, by_name)
                self.attach(media, product)
                variant.media_ids.append(media.id)
            product.variants.append(variant)
        if not product.variants:
            product.variants.append(
                SimVariant(
                    self.next_id("variant"), "Default Title", seed.sku, seed.price, {}, stamp
                )
            )
        return self.add_product(product)

    def _seed_media(
        self, image: SeedImage, title: str, stamp: datetime, by_name: dict[str, SimMedia]
    ) -> SimMedia:
        known = by_name.get(image.filename)
        if known is not None:
            return known
        media = SimMedia(self.next_id("media"), image.filename, image.alt, "", stamp, stamp)
        media.status = "READY"
        if image.data is not None:
            media.data = image.data
        else:
            media.placeholder = title
            media.width = media.height = PLACEHOLDER_SIZE
        self.media[media.id] = media
        by_name[image.filename] = media
        return media


def seed_status(status: str) -> str:
    """Map a neutral or Shopify status to ProductStatus (WooCommerce's publish is ACTIVE)."""
    value = (status or "active").strip().lower()
    return {
        "publish": "ACTIVE",
        "active": "ACTIVE",
        "draft": "DRAFT",
        "pending": "DRAFT",
        "private": "DRAFT",
        "archived": "ARCHIVED",
    }.get(value, "ACTIVE")


def sort_value(product: SimProduct, sort_key: str) -> object:
    if sort_key == "TITLE":
        return product.title.lower()
    if sort_key == "CREATED_AT":
        return product.created_at
    return product.id


def time_after(moment: datetime, seconds: int) -> datetime:
    return moment + timedelta(seconds=seconds)
