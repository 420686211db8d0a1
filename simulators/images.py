"""Real image bytes for the simulators: product placeholders and scene renders.

No machine here reaches the internet, so the store simulators draw a product
image for every catalogue entry instead of downloading it, and the PergAI
simulator composes its results from the product image it was given.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

# Background colours of the scene templates the PergAI simulator offers.
SCENE_COLOURS: dict[str, tuple[int, int, int]] = {
    "studio": (236, 236, 236),
    "nature": (120, 170, 105),
    "luxury": (40, 30, 20),
    "urban": (110, 115, 125),
    "beach": (240, 220, 170),
    "minimal": (250, 250, 250),
    "kitchen": (225, 200, 170),
    "holiday": (170, 30, 40),
}


def colour_for(text: str) -> tuple[int, int, int]:
    """Return a stable, mid-bright colour derived from ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return (64 + digest[0] % 160, 64 + digest[1] % 160, 64 + digest[2] % 160)


def encode(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def product_placeholder(name: str, size: int = 512, image_format: str = "PNG") -> bytes:
    """Draw a product image: a coloured shape with the product's name under it."""
    image = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(image)

    margin = size // 5
    draw.rounded_rectangle(
        (margin, margin, size - margin, size - margin), radius=size // 10, fill=colour_for(name)
    )
    font = ImageFont.load_default()
    draw.text((margin, size - margin + 8), name[:40], fill=(20, 20, 20), font=font)
    return encode(image, image_format)


def scene_render(source: bytes, scene: str, size: int = 512) -> bytes:
    """Place the product image on the scene's background and write the scene's name on it.

    Raises ``ValueError`` when ``source`` is not an image Pillow can read.
    """
    try:
        product = Image.open(io.BytesIO(source)).convert("RGB")
    except UnidentifiedImageError as error:
        raise ValueError("source is not an image") from error

    background = SCENE_COLOURS.get(scene, colour_for(scene))
    canvas = Image.new("RGB", (size, size), background)
    product.thumbnail((size * 3 // 4, size * 3 // 4))
    offset = ((size - product.width) // 2, (size - product.height) // 2)
    canvas.paste(product, offset)

    font = ImageFont.load_default()
    ImageDraw.Draw(canvas).text((10, 10), scene, fill=(255, 255, 255), font=font)
    return encode(canvas)


def image_size(data: bytes) -> tuple[int, int]:
    """Return (width, height) of encoded image bytes; raises ``ValueError`` for non-images."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except UnidentifiedImageError as error:
        raise ValueError("not an image") from error
