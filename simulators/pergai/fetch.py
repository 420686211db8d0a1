"""Fetch a product's reference image from the URL given as ``imagePath``."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from simulators.pergai.render import image_format
from simulators.pergai.settings import PergaiSimSettings


class ImageFetchError(Exception):
    """The imagePath URL cannot be used; the message gives the reason (sent back as a 400)."""


def is_url(image_path: str) -> bool:
    return urlsplit(image_path).scheme in ("http", "https")


async def fetch_image(
    session: aiohttp.ClientSession, url: str, settings: PergaiSimSettings
) -> tuple[bytes, str]:
    """Download ``url`` and return (bytes, Pillow format); raise ``ImageFetchError`` on failure."""
    host = urlsplit(url).hostname or ""
    if host not in settings.fetch_hosts:
        raise ImageFetchError(
            f"imagePath host {host!r} is unreachable from the simulator, which fetches "
            f"only {', '.join(settings.fetch_hosts)}"
        )

    data = await download(session, url, settings)
    try:
        return data, image_format(data)
    except ValueError as error:
        raise ImageFetchError(f"imagePath URL {url} is not an image") from error


async def download(session: aiohttp.ClientSession, url: str, settings: PergaiSimSettings) -> bytes:
    """Read the body of ``url``, at most ``settings.max_image_bytes`` of it."""
    limits = aiohttp.ClientTimeout(total=settings.fetch_timeout)
    try:
        async with session.get(url, timeout=limits) as response:
            return await read_body(response, url, settings.max_image_bytes)
    except (aiohttp.ClientError, TimeoutError) as error:
        reason = type(error).__name__
        raise ImageFetchError(f"imagePath URL {url} is unreachable ({reason})") from error


async def read_body(response: aiohttp.ClientResponse, url: str, limit: int) -> bytes:
    if response.status != 200:
        raise ImageFetchError(f"imagePath URL {url} returned HTTP {response.status}")

    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data.extend(chunk)
        if len(data) > limit:
            raise ImageFetchError(f"imagePath URL {url} is larger than {limit} bytes")
    return bytes(data)
