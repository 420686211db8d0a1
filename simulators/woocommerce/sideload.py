"""Image sideloading as WooCommerce does it for an image ``src``: download, check, then store.

The file name comes from the URL path (the query string is dropped), so a URL
whose path has no image extension is rejected even when it serves a JPEG.
Every download becomes a new attachment, even for a URL sent before.
"""

from __future__ import annotations

import asyncio
import ipaddress
import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiohttp

from simulators.images import image_size
from simulators.woocommerce.state import IMAGE_TYPES, WooState

SAFE_PORTS = (80, 443, 8080)
FILE_TYPE_REJECTED = "Sorry, you are not allowed to upload this file type."


class UploadError(Exception):
    """An image that cannot be sideloaded; the message is WooCommerce's inner reason."""


@dataclass(frozen=True)
class Download:
    filename: str
    data: bytes


def _is_private(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


async def download_image(state: WooState, session: aiohttp.ClientSession, src: str) -> Download:
    """Fetch ``src`` and check it is an allowed image; raise ``UploadError`` with the reason."""
    parts = urlsplit(src)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadError(f"Invalid URL {src}.")
    filename = posixpath.basename(unquote(parts.path))

    data = await _fetch(state, session, src)
    extension = posixpath.splitext(filename)[1].lower()
    if extension not in IMAGE_TYPES:
        raise UploadError(f"Invalid image: {FILE_TYPE_REJECTED}")
    try:
        image_size(data)
    except ValueError as error:
        raise UploadError(f"Invalid image: {FILE_TYPE_REJECTED}") from error
    return Download(filename, data)


async def _fetch(state: WooState, session: aiohttp.ClientSession, src: str) -> bytes:
    parts = urlsplit(src)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    prefix = f"Error getting remote image {src}. Error: "
    if state.settings.refuse_private_hosts and (_is_private(host) or port not in SAFE_PORTS):
        raise UploadError(prefix + "A valid URL was not provided.")

    if state.settings.sideload_delay:
        await asyncio.sleep(state.settings.sideload_delay)
    try:
        async with session.get(src, timeout=aiohttp.ClientTimeout(total=300)) as response:
            if response.status != 200:
                raise UploadError(prefix + (response.reason or str(response.status)))
            return await response.read()
    except aiohttp.ClientConnectorError as error:
        raise UploadError(
            prefix + f"cURL error 7: Failed to connect to {host} port {port} after 0 ms: "
            "Couldn't connect to server"
        ) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        raise UploadError(prefix + f"cURL error 28: {type(error).__name__}") from error
