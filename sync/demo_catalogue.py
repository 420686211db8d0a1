"""The demo's own sample catalogue: a small shop whose product images the simulators draw.

Titles and categories carry Turkish and other non-ASCII text on purpose, so the
demo exercises the same Unicode paths a real merchant's catalogue does.
"""

from __future__ import annotations

from simulators.catalogue import SeedImage, SeedProduct, SeedVariant


def product(
    title: str,
    sku: str,
    categories: list[str],
    tags: list[str],
    product_type: str,
    variants: list[SeedVariant] | None = None,
) -> SeedProduct:
    return SeedProduct(
        title=title,
        kind="variable" if variants else "simple",
        sku=sku,
        price="29.00",
        description=f"{title}: a sample product of the pergai-sync demo.",
        product_type=product_type,
        vendor="Demo Atelier",
        categories=[categories],
        tags=tags,
        images=[SeedImage(filename=f"{sku.lower()}.png", alt=title)],
        variants=variants or [],
    )


def colour_variants(sku: str, colours: list[str]) -> list[SeedVariant]:
    return [
        SeedVariant(
            title=colour,
            sku=f"{sku}-{colour[:3].upper()}",
            price="29.00",
            options={"Color": colour},
            image=SeedImage(filename=f"{sku.lower()}-{colour.lower()}.png", alt=colour),
        )
        for colour in colours
    ]


def demo_catalogue() -> list[SeedProduct]:
    """Return the eight products the demo loads into each store simulator."""
    return [
        product("Linen Shirt", "SHIRT-01", ["Clothing", "Shirts"], ["summer"], "Shirts"),
        product(
            "Kapüşonlu Sweatshirt",
            "HOOD-01",
            ["Clothing", "Hoodies"],
            ["winter", "bestseller"],
            "Hoodies",
            colour_variants("HOOD-01", ["Blue", "Red"]),
        ),
        product("Leather Belt", "BELT-01", ["Accessories"], ["leather"], "Accessories"),
        product("Çelik Termos 750 ml", "FLASK-01", ["Home & Kitchen"], ["outdoor"], "Kitchen"),
        product("Silver Ring ✨", "RING-01", ["Jewellery"], ["gift"], "Jewellery"),
        product("Canvas Sneakers", "SHOE-01", ["Shoes"], ["summer"], "Shoes"),
        product("Wool Beanie", "BEANIE-01", ["Accessories", "Hats"], ["winter"], "Hats"),
        product("Ceramic Mug – Ocean", "MUG-01", ["Home & Kitchen"], ["gift"], "Kitchen"),
    ]
