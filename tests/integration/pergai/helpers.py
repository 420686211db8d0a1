"""Small helpers shared by the PergAI integration tests."""

from __future__ import annotations

import io
import random

from aiohttp import web
from PIL import Image

from simulators.images import product_placeholder


class ScriptedDice(random.Random):
    """A random source that returns the given numbers in turn, then 1.0 (no fault)."""

    def __init__(self, *values: float) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0) if self.values else 1.0


def image_of(data: bytes) -> Image.Image:
    """Open image bytes and check they decode fully."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def store_app() -> web.Application:
    """A stand-in store CDN serving one product image and one text file."""
    picture = product_placeholder("Kapüşonlu Sweatshirt", size=128)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=picture, content_type="image/png")

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="not a picture", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/media/hoodie-blue.png", image)
    app.router.add_get("/media/readme.txt", text)
    return app
