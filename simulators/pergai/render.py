"""Real result images for the simulator's generations and image tools.

Scene shots come from ``simulators.images.scene_render``. The tools do a
simple Pillow version of their operation, so the results are real images of
the expected size and mode. These functions are CPU work and are
run in a thread by the handlers.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from simulators.images import encode, scene_render

MAX_SIDE = 2048
SCALES = {"1x": 1, "2x": 2, "4x": 4}
# Grey level above which remove-bg treats a pixel as background.
BACKGROUND_LEVEL = 240


def image_format(data: bytes) -> str:
    """Return Pillow's format name (PNG, JPEG...) of ``data``; raise ``ValueError`` otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format or "PNG"
    except UnidentifiedImageError as error:
        raise ValueError("not an image") from error


def parse_ratio(ratio: str) -> tuple[int, int]:
    """Parse "16:9" into (16, 9); raise ``ValueError`` for anything else."""
    width, _, height = ratio.partition(":")
    parsed = (int(width), int(height))
    if parsed[0] <= 0 or parsed[1] <= 0:
        raise ValueError(f"ratio {ratio!r} must have two positive numbers")
    return parsed


def render_result(
    source: bytes, scene: str | None, tool: str | None, options: dict[str, Any]
) -> bytes:
    """Produce the result image of a scene shot (``scene``) or a tool run (``tool``)."""
    if tool == "remove-bg":
        return remove_background(source)
    if tool == "upscale":
        return upscale(source, SCALES.get(str(options.get("scale", "1x")), 1))
    if tool == "expand":
        return expand(source, parse_ratio(str(options["ratio"])), options.get("resolution"))
    return scene_render(source, scene or "studio")


def remove_background(source: bytes) -> bytes:
    """Make near-white pixels transparent and return an RGBA PNG."""
    image = Image.open(io.BytesIO(source)).convert("RGBA")
    mask = image.convert("L").point(lambda level: 0 if level > BACKGROUND_LEVEL else 255)
    image.putalpha(mask)
    return encode(image)


def upscale(source: bytes, factor: int) -> bytes:
    """Resize by ``factor``, capping the longer side at ``MAX_SIDE`` pixels."""
    image = Image.open(io.BytesIO(source)).convert("RGB")
    scale = min(factor, MAX_SIDE / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return encode(image.resize(size, Image.Resampling.LANCZOS))


def expand(source: bytes, ratio: tuple[int, int], resolution: Any) -> bytes:
    """Pad the image to ``ratio`` with its corner colour, then fit ``resolution`` if given."""
    image = Image.open(io.BytesIO(source)).convert("RGB")
    width, height = padded_size(image.size, ratio)
    fill = image.getpixel((0, 0))
    canvas = Image.new("RGB", (width, height), fill)
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))

    target = target_size(resolution, canvas.size)
    if target != canvas.size:
        canvas = canvas.resize(target, Image.Resampling.LANCZOS)
    return encode(canvas)


def padded_size(size: tuple[int, int], ratio: tuple[int, int]) -> tuple[int, int]:
    """Return the smallest size of aspect ``ratio`` that contains ``size``."""
    width, height = size
    if width * ratio[1] >= height * ratio[0]:
        return width, max(height, round(width * ratio[1] / ratio[0]))
    return max(width, round(height * ratio[0] / ratio[1])), height


def target_size(resolution: Any, size: tuple[int, int]) -> tuple[int, int]:
    """Scale ``size`` so its longer side matches ``resolution`` ("1024x1024", "4k"), capped.

    NOTE: "4k" and anything above 2048 pixels is capped at 2048 to keep the simulator light.
    """
    if not isinstance(resolution, str) or not resolution:
        return size
    text = resolution.lower()
    if text.endswith("k") and text[:-1].isdigit():
        side = int(text[:-1]) * 1024
    else:
        parts = text.split("x")
        if len(parts) != 2 or not all(part.isdigit() for part in parts):
            return size
        side = max(int(parts[0]), int(parts[1]))

    side = min(side, MAX_SIDE)
    scale = side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))
