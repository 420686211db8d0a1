"""The records a WooCommerce store keeps: products, variations, media, categories, keys, webhooks.

Products, variations and media attachments are WordPress posts and share one
id sequence, so ids interleave as they do on a real site. Times are naive
UTC at one-second resolution, like the ``*_gmt`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Attachment:
    """A media library item; ``filename`` is unique in its uploads folder."""

    id: int
    filename: str
    folder: str
    name: str
    alt: str
    data: bytes
    content_type: str
    date_created_gmt: datetime
    parent_id: int = 0


@dataclass
class Category:
    id: int
    name: str
    slug: str
    parent: int = 0


@dataclass
class Variation:
    id: int
    parent_id: int
    sku: str
    regular_price: str
    # Attribute name -> option, e.g. {"Color": "Blue"}.
    options: dict[str, str]
    date_created_gmt: datetime
    date_modified_gmt: datetime
    image_id: int | None = None
    status: str = "publish"
    description: str = ""


@dataclass
class Product:
    id: int
    name: str
    slug: str
    type: str
    status: str
    date_created_gmt: datetime
    date_modified_gmt: datetime
    sku: str = ""
    regular_price: str = ""
    description: str = ""
    short_description: str = ""
    featured: bool = False
    category_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)
    variation_ids: list[int] = field(default_factory=list)
    # Attribute name -> options, in order.
    attributes: dict[str, list[str]] = field(default_factory=dict)
    meta_data: list[dict[str, Any]] = field(default_factory=list)
    external_url: str = ""
    button_text: str = ""
    virtual: bool = False
    downloadable: bool = False


@dataclass
class ApiKey:
    """A REST API key; ``permissions`` is read, write or read_write."""

    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"

    @property
    def can_write(self) -> bool:
        return self.permissions in ("write", "read_write")


@dataclass
class Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    status: str
    date_created_gmt: datetime
    date_modified_gmt: datetime | None = None
    failure_count: int = 0

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0]

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[-1]
