"""Write finished images onto Shopify listings through the Files API.

The writer uses ``fileCreate`` + ``fileUpdate(referencesToAdd)`` rather than
``productUpdate(media:)`` because fileCreate takes an explicit ``filename``.
The marker name ``pergai-<generation>.<ext>`` so ends up in the CDN URL even
though the source is an opaque signed URL. ``fileUpdate`` is also what
detaches and re-attaches originals for replace and revert (``write_files``).
``productCreateMedia`` and ``productDeleteMedia`` are deprecated in 2025-01.

Flow: read the product's media a page at a time (an image with our marker is
returned as already present); download the result and check its size; fileCreate from the URL and
poll until READY; on FAILED delete that file and retry once from a staged
upload of the downloaded bytes; attach it to the product (and the variant);
move it first for FEATURED and REPLACE; detach the originals for REPLACE.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp
from PIL import Image, UnidentifiedImageError

from connectors.base import ImageWrite, StoreImage, WriteMode, WriteResult, marker_generation_id
from connectors.shopify import queries
from connectors.shopify.client import SERVICE, user_errors
from connectors.shopify.records import store_image
from sync.errors import (
    BadRequestError,
    ImageError,
    NotFoundError,
    RemoteConnectionError,
    ServerError,
)

if TYPE_CHECKING:
    from connectors.shopify.connector import ShopifyConnector

logger = logging.getLogger(__name__)

MAX_PIXELS = 20_000_000
MAX_SIDE = 4472
MAX_BYTES = 20 * 1024 * 1024
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}


class MediaFailedError(ImageError):
    """Shopify could not process the image; the message carries Shopify's error code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def check_image(data: bytes, name: str) -> tuple[str, tuple[int, int]]:
    """Return the MIME type and size of ``data``; raise ``ImageError`` if Shopify rejects it."""
    if len(data) > MAX_BYTES:
        raise ImageError(f"image {name} is {len(data)} bytes; Shopify accepts at most 20 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            size, image_format = image.size, image.format or ""
    except (UnidentifiedImageError, OSError) as error:
        raise ImageError(f"image {name} is not a PNG, JPEG or GIF image") from error
    if image_format not in MIME_TYPES:
        raise ImageError(f"image {name} is {image_format}; Shopify accepts PNG, JPEG or GIF")
    width, height = size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageError(
            f"image {name} is {width}x{height} px; Shopify accepts at most 20 megapixels and "
            f"{MAX_SIDE} px a side, so resize it before writing"
        )
    return MIME_TYPES[image_format], size


class ImageWriter:
    """The write, replace and revert steps of one connector."""

    def __init__(self, connector: ShopifyConnector) -> None:
        self.connector = connector
        self.client = connector.client
        self.store = connector.store_name

    async def write(self, request: ImageWrite) -> WriteResult:
        images = await self.connector.product_images(request.product_id)
        if images is None:
            raise NotFoundError(
                f"store '{self.store}': product {request.product_id} no longer exists on Shopify",
                service=SERVICE,
                status=404,
            )
        generation = marker_generation_id(request.filename)
        present = next((i for i in images if generation and i.generation_id == generation), None)
        if present is not None:
            logger.info(
                "store '%s': image %s is already on product %s",
                self.store,
                request.filename,
                request.product_id,
                extra={
                    "action": "image_already_present",
                    "store": self.store,
                    "product": request.product_id,
                },
            )
            return WriteResult(image=present, already_present=True)

        data = await self.download(request.url, request.filename)
        mime, _size = await asyncio.to_thread(check_image, data, request.filename)
        media = await self.create_ready_file(request, data, mime)
        media_id = str(media["id"])

        await self.update_files([{"id": media_id, "referencesToAdd": [request.product_id]}])
        if request.variant_id:
            await self.append_to_variant(request.product_id, request.variant_id, media_id)

        detached: tuple[str, ...] = ()
        if request.mode in (WriteMode.FEATURED, WriteMode.REPLACE):
            await self.reorder(request.product_id, [media_id])
        if request.mode is WriteMode.REPLACE:
            detached = tuple(i.id for i in images if not i.ours)
            if detached:
                await self.update_files(
                    [{"id": i, "referencesToRemove": [request.product_id]} for i in detached]
                )

        position = 0 if request.mode is not WriteMode.ADD else len(images)
        image = media.get("image") or {}
        written = store_image(media_id, str(image.get("url") or ""), media.get("alt"), position)
        logger.info(
            "store '%s': wrote %s to product %s (%s)",
            self.store,
            request.filename,
            request.product_id,
            request.mode.value,
            extra={"action": "image_written", "store": self.store, "product": request.product_id},
        )
        return WriteResult(image=written, detached_ids=detached)

    async def download(self, url: str, name: str) -> bytes:
        """Fetch the finished image to check its size (and for a staged upload if needed)."""
        try:
            async with self.connector.session.get(url) as response:
                if response.status != 200:
                    raise ImageError(
                        f"image {name} could not be downloaded from its URL "
                        f"(HTTP {response.status})"
                    )
                declared = response.content_length
                if declared is not None and declared > MAX_BYTES:
                    raise ImageError(
                        f"image {name} is {declared} bytes; Shopify accepts at most 20 MB"
                    )
                data = await response.content.read(MAX_BYTES + 1)
        except aiohttp.ClientError as error:
            raise ImageError(
                f"image {name} could not be downloaded from its URL ({error})"
            ) from error
        if len(data) > MAX_BYTES:
            raise ImageError(f"image {name} is over 20 MB; Shopify accepts at most 20 MB")
        return data

    async def create_ready_file(
        self, request: ImageWrite, data: bytes, mime: str
    ) -> dict[str, Any]:
        """Create the file from the URL; when Shopify fails it, retry once from uploaded bytes."""
        try:
            return await self.create_and_wait(request.url, request)
        except MediaFailedError as error:
            logger.warning(
                "store '%s': Shopify could not fetch %s (%s); uploading the bytes instead",
                self.store,
                request.filename,
                error.code,
                extra={
                    "action": "image_staged_retry",
                    "store": self.store,
                    "product": request.product_id,
                },
            )
        resource_url = await self.stage(request.filename, data, mime)
        return await self.create_and_wait(resource_url, request)

    async def create_and_wait(self, source: str, request: ImageWrite) -> dict[str, Any]:
        files = [
            {
                "originalSource": source,
                "filename": request.filename,
                "alt": request.alt,
                "contentType": "IMAGE",
                # A file of this name can only be left by an earlier try of this same write
                # that stopped before attaching it; the default mode would rename the new
                # file and lose the marker.
                "duplicateResolutionMode": "REPLACE",
            }
        ]
        data = await self.client.execute(queries.FILE_CREATE, {"files": files}, mutation=True)
        payload = data.get("fileCreate") or {}
        self.raise_user_errors("fileCreate", user_errors(payload), request.filename)
        created = (payload.get("files") or [{}])[0]
        media_id = str(created.get("id") or "")
        media = await self.wait_ready(media_id, request.filename)
        if media.get("status") == "FAILED":
            await self.delete_files([media_id])
            error = (media.get("mediaErrors") or [{}])[0]
            code = str(error.get("code") or "UNKNOWN")
            raise MediaFailedError(
                f"store '{self.store}': Shopify could not process image {request.filename}: "
                f"{code} ({error.get('message') or 'no details'})",
                code,
            )
        return media

    async def wait_ready(self, media_id: str, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.connector.write_timeout
        interval = min(0.05, self.connector.poll_interval)
        while time.monotonic() < deadline:
            data = await self.client.execute(queries.MEDIA_STATUS, {"id": media_id})
            node = data.get("node") or {}
            if node.get("status") in ("READY", "FAILED"):
                return dict(node)
            await asyncio.sleep(interval)
            interval = min(interval * 2, self.connector.poll_interval)
        raise ServerError(
            f"store '{self.store}': Shopify did not finish processing image {name} in "
            f"{self.connector.write_timeout:.0f} s; the write is retried later",
            service=SERVICE,
        )

    async def stage(self, filename: str, data: bytes, mime: str) -> str:
        """Upload ``data`` to a staged target and return the resource URL for ``originalSource``."""
        variables = {
            "input": [
                {"resource": "IMAGE", "filename": filename, "mimeType": mime, "httpMethod": "POST"}
            ]
        }
        result = await self.client.execute(queries.STAGED_UPLOADS, variables, mutation=True)
        payload = result.get("stagedUploadsCreate") or {}
        self.raise_user_errors("stagedUploadsCreate", user_errors(payload), filename)
        target = (payload.get("stagedTargets") or [{}])[0]

        form = aiohttp.FormData()
        for parameter in target.get("parameters") or []:
            form.add_field(str(parameter["name"]), str(parameter["value"]))
        form.add_field("file", data, filename=filename, content_type=mime)
        try:
            async with self.connector.session.post(str(target["url"]), data=form) as response:
                if response.status not in (200, 201, 204):
                    detail = (await response.text())[:200]
                    raise ImageError(
                        f"uploading image {filename} to Shopify failed "
                        f"(HTTP {response.status}): {detail}"
                    )
        except aiohttp.ClientError as error:
            raise RemoteConnectionError(
                f"store '{self.store}': uploading image {filename} to Shopify failed ({error})",
                service=SERVICE,
            ) from error
        return str(target["resourceUrl"])

    async def update_files(self, files: list[dict[str, Any]]) -> None:
        data = await self.client.execute(queries.FILE_UPDATE, {"files": files}, mutation=True)
        self.raise_user_errors("fileUpdate", user_errors(data.get("fileUpdate")), files[0]["id"])

    async def delete_files(self, ids: list[str]) -> None:
        data = await self.client.execute(queries.FILE_DELETE, {"ids": ids}, mutation=True)
        errors = [
            e for e in user_errors(data.get("fileDelete")) if e.get("code") != "FILE_DOES_NOT_EXIST"
        ]
        self.raise_user_errors("fileDelete", errors, ids[0])

    async def append_to_variant(self, product_id: str, variant_id: str, media_id: str) -> None:
        variables = {
            "productId": product_id,
            "variantMedia": [{"variantId": variant_id, "mediaIds": [media_id]}],
        }
        data = await self.client.execute(queries.VARIANT_APPEND_MEDIA, variables, mutation=True)
        self.raise_user_errors(
            "productVariantAppendMedia",
            user_errors(data.get("productVariantAppendMedia")),
            variant_id,
        )

    async def reorder(self, product_id: str, media_ids: list[str]) -> None:
        """Move ``media_ids`` to the front in this order and wait for Shopify's job."""
        moves = [
            {"id": media_id, "newPosition": str(index)} for index, media_id in enumerate(media_ids)
        ]
        data = await self.client.execute(
            queries.REORDER_MEDIA, {"id": product_id, "moves": moves}, mutation=True
        )
        payload = data.get("productReorderMedia") or {}
        self.raise_user_errors(
            "productReorderMedia", user_errors(payload, "mediaUserErrors"), product_id
        )
        job = payload.get("job") or {}
        deadline = time.monotonic() + self.connector.write_timeout
        while job.get("id") and not job.get("done") and time.monotonic() < deadline:
            await asyncio.sleep(min(0.05, self.connector.poll_interval))
            job = (await self.client.execute(queries.JOB, {"id": job["id"]})).get("job") or {}

    async def revert(
        self, product_id: str, our_image_ids: tuple[str, ...], detached_ids: tuple[str, ...]
    ) -> None:
        """Re-attach the originals in their old order, then delete our images."""
        if detached_ids:
            await self.update_files(
                [{"id": i, "referencesToAdd": [product_id]} for i in detached_ids]
            )
            await self.reorder(product_id, list(detached_ids))
        if our_image_ids:
            await self.delete_files(list(our_image_ids))
        logger.info(
            "store '%s': reverted product %s (%d originals back, %d of ours removed)",
            self.store,
            product_id,
            len(detached_ids),
            len(our_image_ids),
            extra={"action": "image_reverted", "store": self.store, "product": product_id},
        )

    def raise_user_errors(self, mutation: str, errors: list[dict[str, Any]], subject: str) -> None:
        if not errors:
            return
        first = errors[0]
        code = first.get("code")
        raise BadRequestError(
            f"store '{self.store}': Shopify rejected {mutation} for {subject}: "
            f"{first.get('message')}" + (f" ({code})" if code else ""),
            service=SERVICE,
        )


def written_image(media: dict[str, Any], position: int) -> StoreImage:
    image = media.get("image") or {}
    return store_image(str(media["id"]), str(image.get("url") or ""), media.get("alt"), position)
