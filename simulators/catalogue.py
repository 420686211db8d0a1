"""A platform-neutral catalogue that any store simulator can load.

The WooCommerce and Shopify CSV readers both produce ``SeedProduct`` records,
so a merchant's export from either platform can be loaded into either
simulator, and the demo's own sample catalogue is written in this form too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SeedImage:
    """A product or variant image. ``data`` is None when the simulator should draw it."""

    filename: str
    alt: str = ""
    data: bytes | None = None


@dataclass
class SeedVariant:
    title: str
    sku: str = ""
    price: str = "0.00"
    # Attribute name -> value, e.g. {"Color": "Blue", "Size": "M"}.
    options: dict[str, str] = field(default_factory=dict)
    image: SeedImage | None = None


@dataclass
class SeedProduct:
    """One catalogue entry: enough for either store's product model."""

    title: str
    # WooCommerce product type: simple, variable, grouped or external.
    kind: str = "simple"
    status: str = "publish"
    sku: str = ""
    price: str = "0.00"
    description: str = ""
    product_type: str = ""
    vendor: str = ""
    # Category paths from the root, e.g. [["Clothing", "Hoodies"]].
    categories: list[list[str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    images: list[SeedImage] = field(default_factory=list)
    variants: list[SeedVariant] = field(default_factory=list)
