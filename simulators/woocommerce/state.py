"""The simulated store's data and the operations every route shares.

``WooState`` is reachable from tests as ``app[STATE_KEY]``: they seed it,
move clocks, inspect the media library and the webhook delivery log.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from simulators.catalogue import SeedImage, SeedProduct, SeedVariant
from simulators.images import product_placeholder
from simulators.woocommerce.model import (
    ApiKey,
    Attachment,
    Category,
    Product,
    Variation,
    Webhook,
)
from simulators.woocommerce.settings import WooSettings
from simulators.woocommerce.text import sanitize_title, slugify

# (event, resource id, is variation): "created", "updated", "deleted" or "restored".
ChangeListener = Callable[[str, int, bool], None]

IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpe": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".ico": "image/x-icon",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".avif": "image/avif",
    ".heic": "image/heic",
}

# A Shopify export loaded into this store keeps its meaning: WooCommerce has no
# "active" or "archived", so they become its nearest statuses.
SHOPIFY_STATUSES = {"active": "publish", "archived": "private", "unlisted": "private"}


class WooState:
    """Products, variations, media, categories, API keys and webhooks of one store."""

    def __init__(self, settings: WooSettings) -> None:
        self.settings = settings
        self.products: dict[int, Product] = {}
        self.variations: dict[int, Variation] = {}
        self.media: dict[int, Attachment] = {}
        self.media_by_path: dict[str, Attachment] = {}
        self.categories: dict[int, Category] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.keys: dict[str, ApiKey] = {}
        self.used_nonces: dict[str, int] = {}
        self.listeners: list[ChangeListener] = []
        # The site's home URL as webhook bodies show it; set from the first request.
        self.home_url = "http://127.0.0.1"
        # Tests may replace the clock; it returns naive UTC.
        self.clock: Callable[[], datetime] | None = None
        self._next_post_id = 10
        self._next_term_id = 15
        self._next_webhook_id = 1
        self._files: dict[str, set[str]] = {}
        self._slugs: set[str] = set()
        self.add_key(settings.consumer_key, settings.consumer_secret, "read_write")
        self.add_key(settings.read_only_key, settings.read_only_secret, "read")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.site_timezone)

    def now(self) -> datetime:
        """Return the current time as naive UTC at one-second resolution."""
        current = self.clock() if self.clock else datetime.now(UTC).replace(tzinfo=None)
        return current.replace(microsecond=0)

    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str) -> ApiKey:
        key = ApiKey(consumer_key, consumer_secret, permissions)
        self.keys[consumer_key] = key
        return key

    def allocate_post_id(self) -> int:
        self._next_post_id += 1
        return self._next_post_id

    def allocate_webhook_id(self) -> int:
        webhook_id = self._next_webhook_id
        self._next_webhook_id += 1
        return webhook_id

    def emit(self, event: str, resource_id: int, *, variation: bool = False) -> None:
        for listener in list(self.listeners):
            listener(event, resource_id, variation)

    # Categories ------------------------------------------------------------

    def category_for_path(self, path: list[str]) -> int:
        """Return the id of the category at ``path``, creating missing levels."""
        parent = 0
        for name in path:
            found = next(
                (c for c in self.categories.values() if c.name == name and c.parent == parent),
                None,
            )
            if found is None:
                self._next_term_id += 1
                found = Category(self._next_term_id, name, slugify(name), parent)
                self.categories[found.id] = found
            parent = found.id
        return parent

    # Media -----------------------------------------------------------------

    def upload_folder(self) -> str:
        """Return the uploads sub-folder for now in site time (``YYYY/MM``)."""
        now = self.now()
        now = now + (self.zone.utcoffset(now) or timedelta(0))
        return f"{now.year:04d}/{now.month:02d}"

    def unique_filename(self, folder: str, filename: str) -> str:
        """Return ``filename`` or ``name-1.ext``, ``name-2.ext``... when the folder has it."""
        taken = self._files.setdefault(folder, set())
        stem, extension = posixpath.splitext(filename)
        candidate, number = filename, 0
        while candidate.lower() in taken:
            number += 1
            candidate = f"{stem}-{number}{extension}"
        taken.add(candidate.lower())
        return candidate

    def add_attachment(
        self,
        filename: str,
        *,
        data: bytes | None = None,
        name: str | None = None,
        alt: str = "",
        parent_id: int = 0,
    ) -> Attachment:
        """Store an image in the media library; ``data`` None draws a placeholder when served."""
        folder = self.upload_folder()
        stored = self.unique_filename(folder, filename)
        content_type = IMAGE_TYPES.get(posixpath.splitext(stored)[1].lower()) or (
            mimetypes.guess_type(stored)[0] or "application/octet-stream"
        )
        attachment = Attachment(
            id=self.allocate_post_id(),
            filename=stored,
            folder=folder,
            name=name if name else stored,
            alt=alt,
            data=data if data is not None else b"",
            content_type=content_type,
            date_created_gmt=self.now(),
            parent_id=parent_id,
        )
        self.media[attachment.id] = attachment
        self.media_by_path[self.media_path(attachment)] = attachment
        return attachment

    def media_bytes(self, attachment: Attachment) -> bytes:
        """Return the attachment's bytes, drawing (once) a placeholder for seeded images."""
        if not attachment.data:
            stem = posixpath.splitext(attachment.filename)[0]
            image_format = "JPEG" if attachment.content_type == "image/jpeg" else "PNG"
            attachment.data = product_placeholder(stem, size=256, image_format=image_format)
        return attachment.data

    def media_path(self, attachment: Attachment) -> str:
        return f"/wp-content/uploads/{attachment.folder}/{attachment.filename}"

    # Products --------------------------------------------------------------

    def unique_slug(self, name: str) -> str:
        base = slugify(name)
        slug, number = base, 1
        while slug in self._slugs:
            number += 1
            slug = f"{base}-{number}"
        self._slugs.add(slug)
        return slug

    def sku_owner(self, sku: str) -> int | None:
        """Return the id of the product or variation that has ``sku``, if any."""
        if not sku:
            return None
        for product in self.products.values():
            if product.sku == sku:
                return product.id
        for variation in self.variations.values():
            if variation.sku == sku:
                return variation.id
        return None

    def new_product(self, name: str, *, kind: str = "simple", status: str = "publish") -> Product:
        now = self.now()
        product = Product(
            id=self.allocate_post_id(),
            name=sanitize_title(name),
            slug=self.unique_slug(name),
            type=kind,
            status=status,
            date_created_gmt=now,
            date_modified_gmt=now,
        )
        self.products[product.id] = product
        return product

    def touch(self, product: Product, event: str = "updated") -> None:
        """Record a change of ``product`` now and tell the webhook listeners."""
        product.date_modified_gmt = self.now()
        self.emit(event, product.id)

    def touch_variation(self, variation: Variation) -> None:
        """Record a variation change; the parent's modified time moves too, as WooCommerce does."""
        now = self.now()
        variation.date_modified_gmt = now
        parent = self.products.get(variation.parent_id)
        if parent is not None:
            parent.date_modified_gmt = now
        self.emit("updated", variation.id, variation=True)

    def set_modified(self, product_id: int, when: datetime) -> None:
        """Set a product's modified time (naive UTC) without any webhook, for tests."""
        self.products[product_id].date_modified_gmt = when.replace(microsecond=0)

    # Seeding ---------------------------------------------------------------

    def load_seed(self, products: Iterable[SeedProduct]) -> list[int]:
        """Create ``products`` with their categories, images and variations; return their ids."""
        return [self._load_one(seed).id for seed in products]

    def _load_one(self, seed: SeedProduct) -> Product:
        kind = seed.kind if seed.kind in ("simple", "grouped", "external", "variable") else "simple"
        status = SHOPIFY_STATUSES.get(seed.status, seed.status) or "publish"
        product = self.new_product(seed.title, kind=kind, status=status)
        product.sku = seed.sku if seed.sku and self.sku_owner(seed.sku) is None else ""
        product.regular_price = seed.price if kind != "variable" else ""
        product.description = seed.description
        product.category_ids = [self.category_for_path(path) for path in seed.categories if path]
        product.tags = list(seed.tags)
        product.image_ids = [self._seed_image(image, product.id).id for image in seed.images]

        for variant in seed.variants if kind == "variable" else []:
            self._load_variant(product, variant)
        return product

    def _seed_image(self, image: SeedImage, parent_id: int) -> Attachment:
        return self.add_attachment(
            image.filename, data=image.data, alt=image.alt, parent_id=parent_id
        )

    def _load_variant(self, product: Product, variant: SeedVariant) -> None:
        now = self.now()
        sku = variant.sku if variant.sku and self.sku_owner(variant.sku) is None else ""
        image_id = self._seed_image(variant.image, product.id).id if variant.image else None
        record = Variation(
            id=self.allocate_post_id(),
            parent_id=product.id,
            sku=sku,
            regular_price=variant.price,
            options=dict(variant.options),
            date_created_gmt=now,
            date_modified_gmt=now,
            image_id=image_id,
        )
        self.variations[record.id] = record
        product.variation_ids.append(record.id)
        for attribute, option in variant.options.items():
            options = product.attributes.setdefault(attribute, [])
            if option not in options:
                options.append(option)

    def generate(
        self, count: int, *, variable_every: int = 10, start: datetime | None = None
    ) -> None:
        """Add ``count`` products quickly (images drawn only when downloaded), for benchmarks.

        Every ``variable_every``-th product is variable with three variations.
        Modified times spread one second apart from ``start`` (default: a day ago).
        """
        when = (start or self.now() - timedelta(days=1)).replace(microsecond=0)
        shirts = self.category_for_path(["Clothing", "Tshirts"])
        for number in range(count):
            product = self.new_product(f"Generated product {number}")
            product.regular_price = f"{10 + number % 90}.00"
            product.sku = f"gen-{number}"
            product.category_ids = [shirts]
            product.image_ids = [self.add_attachment(f"gen-{number}.jpg", parent_id=product.id).id]
            if variable_every and number % variable_every == 0:
                product.type = "variable"
                self._generate_variations(product, number)
            product.date_created_gmt = product.date_modified_gmt = when + timedelta(seconds=number)

    def _generate_variations(self, product: Product, number: int) -> None:
        product.attributes = {"Color": ["Red", "Green", "Blue"]}
        for colour in product.attributes["Color"]:
            variation = Variation(
                id=self.allocate_post_id(),
                parent_id=product.id,
                sku=f"gen-{number}-{colour.lower()}",
                regular_price="20.00",
                options={"Color": colour},
                date_created_gmt=product.date_created_gmt,
                date_modified_gmt=product.date_modified_gmt,
            )
            self.variations[variation.id] = variation
            product.variation_ids.append(variation.id)
