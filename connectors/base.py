"""The store connector interface: what the engine asks of a store, whatever the platform.

The pipeline never branches on the platform. Shopify and WooCommerce adapters
implement ``StoreConnector`` and translate their wire formats into the records
below. Ids are strings everywhere (Shopify's are global ids, WooCommerce's are
decimal integers above 2**53 in some stores), and times are aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

# Images this service writes are named `pergai-<generation id>.<ext>`; the
# marker survives in the store's file name or image name, so a listing read
# back tells which images are ours.
MARKER_PATTERN = re.compile(r"pergai-([0-9a-fA-F-]{36})(?:-\d+)?\.(?:png|jpe?g|webp|gif)", re.I)


def marker_filename(generation_id: str, extension: str = "png") -> str:
    """Return the file name that marks an image written for ``generation_id``."""
    return f"pergai-{generation_id}.{extension.lstrip('.')}"


def marker_generation_id(text: str | None) -> str | None:
    """Return the generation id in a marker file name or URL, or None when it has none."""
    if not text:
        return None
    match = MARKER_PATTERN.search(text)
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class StoreImage:
    """One image of a product listing, in store order (position 0 is the featured one)."""

    id: str
    url: str
    alt: str | None = None
    position: int = 0
    # Generation id when this service wrote the image (from the marker), else None.
    generation_id: str | None = None

    @property
    def ours(self) -> bool:
        return self.generation_id is not None

    @property
    def fingerprint(self) -> str:
        """Identity of the image as a source: a new id or URL starts a new cycle."""
        return f"{self.id}|{self.url}"


@dataclass(frozen=True)
class StoreVariant:
    """A product variant and its own image, if it has one."""

    id: str
    title: str
    image: StoreImage | None = None


@dataclass(frozen=True)
class CatalogueItem:
    """A store product in the form the engine uses."""

    product_id: str
    title: str
    updated_at: datetime
    status: str
    product_type: str | None = None
    # Category path from the root, e.g. ("Clothing", "Hoodies"); empty when none.
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[StoreImage, ...] = ()
    variants: tuple[StoreVariant, ...] = ()

    @property
    def source_image(self) -> StoreImage | None:
        """The first image this service did not write: the reference for generations."""
        return next((image for image in self.images if not image.ours), None)

    @property
    def category_path(self) -> str:
        return " > ".join(self.categories)


class WriteMode(StrEnum):
    """The way a finished image goes onto the listing."""

    ADD = "add"  # appended after the existing images
    FEATURED = "featured"  # added and made the first (featured) image
    REPLACE = "replace"  # added; every original detached and recorded for revert


@dataclass(frozen=True)
class ImageWrite:
    """A request to put one finished image on a product or one of its variants."""

    product_id: str
    url: str
    filename: str
    alt: str
    mode: WriteMode = WriteMode.ADD
    variant_id: str | None = None


@dataclass(frozen=True)
class WriteResult:
    """The result of a write: our image on the listing and the originals it detached."""

    image: StoreImage
    detached_ids: tuple[str, ...] = ()
    # True when the image was already on the listing (an earlier write that
    # timed out but succeeded) and nothing new was written.
    already_present: bool = False


class EventKind(StrEnum):
    PRODUCT_CHANGED = "product_changed"
    PRODUCT_DELETED = "product_deleted"
    STORE_UNINSTALLED = "store_uninstalled"
    PRIVACY_REQUEST = "privacy_request"
    PING = "ping"


@dataclass(frozen=True)
class StoreEvent:
    """One thing a webhook delivery tells: a product changed or was deleted, and so on.

    ``item`` is the product as the delivery carried it (None for deletions,
    pings and store-wide events); ``product_id`` is set for product events.
    """

    kind: EventKind
    product_id: str | None = None
    item: CatalogueItem | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class WebhookDelivery:
    """A verified webhook delivery, with the key that de-duplicates it in the inbox."""

    key: str
    topic: str
    events: tuple[StoreEvent, ...] = ()


@dataclass(frozen=True)
class StoreCheck:
    """The result of a credentials check: the shop's name and the permissions found."""

    shop_name: str
    scopes: tuple[str, ...] = field(default_factory=tuple)


@runtime_checkable
class StoreConnector(Protocol):
    """The operations the engine needs from a store. Methods raise only ``sync.errors`` classes."""

    platform: str

    def catalogue_changes(
        self, since: datetime | None, until: datetime
    ) -> AsyncIterator[CatalogueItem]:
        """Stream products with ``since <= updated_at <= until`` (all when ``since`` is None).

        The bound at ``since`` is inclusive and each product appears at most
        once per call; the caller records ``until`` as the next cursor, so
        products changing during the scan are read again next time.
        """
        ...

    async def get_product(self, product_id: str) -> CatalogueItem | None:
        """Read one product, or return None when the store no longer has it."""
        ...

    async def write_image(self, request: ImageWrite) -> WriteResult:
        """Put a finished image on the listing and wait until the store has it.

        Reads the listing first: when an image with the same marker file name
        is already there, returns it with ``already_present`` and writes nothing.
        """
        ...

    async def revert(
        self, product_id: str, our_image_ids: tuple[str, ...], detached_ids: tuple[str, ...]
    ) -> None:
        """Remove our images from the listing and re-attach the originals a replace detached."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Verify a delivery's signature on the raw body and turn it into events.

        Raises ``WebhookSignatureError`` on a missing or wrong signature and
        ``BadRequestError`` on a body that cannot be read.
        """
        ...

    async def register_webhooks(self, callback_url: str) -> list[str]:
        """Subscribe the store's product and app topics to ``callback_url``; return the topics."""
        ...

    async def check(self) -> StoreCheck:
        """Verify the credentials and permissions, raising an actionable error when they fail."""
        ...

    async def aclose(self) -> None:
        """Release the connector's HTTP session and thread pool."""
        ...
