"""The simulated shop: catalogue, cost bucket, media processing, uploads, webhooks and bulk runs."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import random
import secrets
import uuid
from collections.abc import Coroutine
from importlib import resources
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
from graphql import GraphQLSchema, build_schema
from PIL import Image, UnidentifiedImageError

from simulators.catalogue import SeedImage, SeedProduct, SeedVariant
from simulators.images import product_placeholder
from simulators.shopify.bulk import BulkRunner
from simulators.shopify.cost import LeakyBucket
from simulators.shopify.mutations import MUTATION_RESOLVERS
from simulators.shopify.settings import ShopifySettings
from simulators.shopify.state import Catalogue, SimMedia, SimProduct, gid, parse_gid
from simulators.shopify.views import READ_RESOLVERS, install, resolve_node_type
from simulators.shopify.webhooks import WebhookSender, product_payload

logger = logging.getLogger(__name__)

MAX_PIXELS = 20_000_000
MAX_SIDE = 4472
MAX_FILE_BYTES = 20 * 1024 * 1024
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def load_schema() -> GraphQLSchema:
    """Build the served schema from schema.graphql and attach the resolvers."""
    text = resources.files("simulators.shopify").joinpath("schema.graphql").read_text("utf-8")
    schema = build_schema(text)
    install(schema, READ_RESOLVERS)
    install(schema, MUTATION_RESOLVERS)
    for name in ("Node", "Media", "File"):
        schema.get_type(name).resolve_type = resolve_node_type  # type: ignore[union-attr]
    schema.get_type("WebhookSubscriptionEndpoint").resolve_type = (  # type: ignore[union-attr]
        lambda value, _info, _type: value["__typename"]
    )
    return schema


class FetchedImage(NamedTuple):
    data: bytes
    width: int
    height: int
    mime: str


class StagedUploads:
    """Upload targets: a multipart POST stores the bytes, the resource URL serves them back."""

    def __init__(self, state: ShopifyState) -> None:
        self.state = state
        self.targets: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[str, str, bytes]] = {}

    def create(self, filename: str, mime_type: str, method: str) -> dict[str, Any]:
        token = uuid.uuid4().hex
        parameters = [
            {"name": "Content-Type", "value": mime_type},
            {"name": "success_action_status", "value": "201"},
            {"name": "acl", "value": "private"},
            {"name": "key", "value": f"tmp/{token}/{filename}"},
            {"name": "policy", "value": secrets.token_urlsafe(24)},
            {"name": "x-goog-signature", "value": secrets.token_hex(32)},
        ]
        self.targets[token] = {
            "filename": filename,
            "mime": mime_type,
            "method": method,
            "parameters": parameters,
        }
        base = self.state.base_url
        return {
            "url": f"{base}/staged-uploads/{token}",
            "resourceUrl": f"{base}/staged-uploads/{token}/{filename}",
            "parameters": parameters,
        }


class ShopifyState:
    """Everything the simulated shop holds; tests reach it through ``app[STATE_KEY]``."""

    def __init__(self, settings: ShopifySettings, api_version: str = "2025-01") -> None:
        self.settings = settings
        self.api_version = api_version
        self.schema = load_schema()
        self.catalogue = Catalogue()
        self.catalogue.on_change = self._product_changed
        self.bucket = LeakyBucket(settings.bucket_max, settings.restore_rate)
        self.random = random.Random(settings.seed)
        self.base_url = "http://127.0.0.1"
        self.jobs: dict[str, dict[str, Any]] = {}
        self.staged = StagedUploads(self)
        self.webhooks = WebhookSender(self)
        self.bulk = BulkRunner(self)
        self.tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        # Count of GraphQL responses by outcome ("ok", "throttled", ...), for tests and benchmarks.
        self.counters: dict[str, int] = {}
        self.points_charged = 0.0

    # Plumbing

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    def spawn(
        self, coroutine: Coroutine[Any, Any, None], group: set[asyncio.Task[None]] | None = None
    ) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        for tasks in (self.tasks, group):
            if tasks is not None:
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        self.bulk.close()

    def count(self, outcome: str) -> None:
        self.counters[outcome] = self.counters.get(outcome, 0) + 1

    # Lookups

    def product_by_gid(self, value: str | None) -> SimProduct | None:
        number = parse_gid(value or "", "Product")
        return self.catalogue.products.get(number) if number is not None else None

    def media_by_gid(self, value: str) -> SimMedia | None:
        number = parse_gid(value, "MediaImage")
        return self.catalogue.media.get(number) if number is not None else None

    def find_node(self, value: str) -> Any:
        number = parse_gid(value)
        if number is None:
            return None
        kind = value.split("/")[3]
        if kind == "Product":
            return self.catalogue.products.get(number)
        if kind == "MediaImage":
            return self.catalogue.media.get(number)
        if kind == "ProductVariant":
            found = self.catalogue.variants.get(number)
            return found[1] if found else None
        if kind == "BulkOperation":
            return self.bulk.operations.get(value)
        return None

    def cdn_url(self, media: SimMedia) -> str:
        return f"{self.base_url}/cdn/shop/files/{media.id}/{media.filename}"

    def unique_filename(self, name: str, mode: str) -> str:
        """Apply fileCreate's duplicate rule: APPEND_UUID renames a name already in Files."""
        taken = any(m.filename == name for m in self.catalogue.media.values())
        if not taken or mode != "APPEND_UUID":
            return name
        stem, dot, extension = name.rpartition(".")
        return f"{stem}_{uuid.uuid4()}{dot}{extension}" if dot else f"{name}_{uuid.uuid4()}"

    def image_bytes(self, media: SimMedia) -> bytes | None:
        if media.data is None and media.placeholder is not None:
            jpeg = media.filename.lower().endswith((".jpg", ".jpeg"))
            media.data = product_placeholder(
                media.placeholder, image_format="JPEG" if jpeg else "PNG"
            )
            media.mime = "image/jpeg" if jpeg else "image/png"
        return media.data

    def delete_media(self, value: str) -> None:
        media = self.media_by_gid(value)
        if media is None:
            return
        products = [
            self.catalogue.products[n]
            for n in list(media.product_ids)
            if n in self.catalogue.products
        ]
        for product in products:
            self.catalogue.detach(media, product)
        del self.catalogue.media[media.id]
        for product in products:
            self.catalogue.touch(product)

    # Seeding

    def load_seed(self, products: list[SeedProduct]) -> list[SimProduct]:
        """Add neutral catalogue records (no webhooks fire for seeding)."""
        return self.catalogue.load_seed(products)

    def generate(
        self, count: int, *, images_per_product: int = 2, variants_per_product: int = 2
    ) -> None:
        """Add ``count`` synthetic products quickly (images drawn on first download)."""
        categories = ["Hoodies", "Mugs", "Sneakers", "Lamps", "Çantalar", "Şapkalar"]
        seeds = []
        for index in range(count):
            category = categories[index % len(categories)]
            title = f"{category} #{index + 1}"
            seeds.append(
                SeedProduct(
                    title=title,
                    status="active" if index % 10 else "draft",
                    product_type=category,
                    vendor="PergAI Demo",
                    tags=[category.lower(), "generated"],
                    images=[
                        SeedImage(f"product-{index + 1}-{n + 1}.png", f"{title} view {n + 1}")
                        for n in range(images_per_product)
                    ],
                    variants=[
                        SeedVariant(f"Size {size}", sku=f"SKU-{index + 1}-{size}")
                        for size in "SML"[:variants_per_product]
                    ],
                )
            )
        self.load_seed(seeds)

    def add_product(self, seed: SeedProduct) -> SimProduct:
        """Add one product as the merchant would, firing products/create."""
        product = self.catalogue.load_seed([seed])[0]
        self._product_changed(product, "products/create")
        return product

    def update_product(self, product: SimProduct, **changes: Any) -> None:
        """Change fields of ``product`` as the merchant would, firing products/update."""
        for name, value in changes.items():
            setattr(product, name, value)
        self.catalogue.touch(product)

    def _product_changed(self, product: SimProduct, topic: str) -> None:
        if topic == "products/delete":
            self.webhooks.send(topic, {"id": product.id})
        else:
            self.webhooks.send(topic, product_payload(product, self))

    # Media processing

    def start_processing(self, media: SimMedia) -> None:
        self.spawn(self.process(media))

    async def process(self, media: SimMedia) -> None:
        """Move ``media`` through UPLOADED -> PROCESSING -> READY, or FAILED with a code."""
        delay = self.settings.media_step_delay
        await asyncio.sleep(delay)
        media.status = "PROCESSING"
        outcome = await self.fetch_source(media.source)
        await asyncio.sleep(delay)

        if isinstance(outcome, FetchedImage):
            media.data, media.mime = outcome.data, outcome.mime
            media.width, media.height = outcome.width, outcome.height
            media.status = "READY"
        else:
            media.status = "FAILED"
            media.error = outcome
        media.updated_at = self.catalogue.now()
        for number in list(media.product_ids):
            product = self.catalogue.products.get(number)
            if product is not None:
                self.catalogue.touch(product)

    async def fetch_source(self, source: str) -> FetchedImage | tuple[str, str]:
        """Download and check an image; return (bytes, size, mime) or (error code, message)."""
        if self.settings.media_failures > 0:
            self.settings.media_failures -= 1
            return ("IMAGE_DOWNLOAD_FAILURE", "Image could not be downloaded.")
        data = await self.download(source)
        if data is None:
            return ("IMAGE_DOWNLOAD_FAILURE", "Image could not be downloaded.")
        if len(data) > MAX_FILE_BYTES:
            return ("INVALID_IMAGE_FILE_SIZE", "Image file size is over 20 MB.")
        try:
            with Image.open(io.BytesIO(data)) as image:
                size, image_format = image.size, image.format or ""
        except (UnidentifiedImageError, OSError):
            return ("UNSUPPORTED_IMAGE_FILE_TYPE", "File is not a supported image type.")
        if image_format not in IMAGE_FORMATS:
            return ("UNSUPPORTED_IMAGE_FILE_TYPE", f"{image_format} images are not supported.")
        if size[0] * size[1] > MAX_PIXELS or max(size) > MAX_SIDE:
            return (
                "INVALID_IMAGE_RESOLUTION",
                "Image resolution is over 20 megapixels or 4472 px a side.",
            )
        return FetchedImage(data, size[0], size[1], IMAGE_FORMATS[image_format])

    async def download(self, source: str) -> bytes | None:
        """Fetch ``source`` over loopback only; any other address fails like an unreachable host."""
        parts = urlsplit(source)
        if parts.scheme not in ("http", "https") or not is_loopback(parts.hostname):
            return None
        try:
            async with self.http.get(source, timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status != 200:
                    return None
                return await response.read()
        except (aiohttp.ClientError, TimeoutError):
            return None

    # Reordering

    def start_reorder(self, product: SimProduct, moves: list[tuple[int, int]]) -> dict[str, Any]:
        job_id = gid("Job", len(self.jobs) + 1)
        job: dict[str, Any] = {"id": job_id, "done": False}
        self.jobs[job_id] = job
        self.spawn(self._reorder(product, moves, job))
        return dict(job)

    async def _reorder(
        self, product: SimProduct, moves: list[tuple[int, int]], job: dict[str, Any]
    ) -> None:
        await asyncio.sleep(self.settings.reorder_delay)
        order = list(product.media_ids)
        for number, position in moves:
            if number in order:
                order.remove(number)
                order.insert(min(position, len(order)), number)
        product.media_ids = order
        job["done"] = True
        self.catalogue.touch(product)


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
