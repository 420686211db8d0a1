"""Writing finished images onto WooCommerce listings without losing or duplicating any.

A PUT's ``images`` list replaces the product's images, and every ``src``
becomes a new attachment even when sent before. So each write reads the
product first and returns an image already carrying our marker instead of
writing again; otherwise it sends every existing image by id plus ours by
``src`` with the marker as its ``name``. A REPLACE keeps only our images and
records the originals' ids in the product's ``meta_data``, so a retried
replace still reports what it detached. When a write's outcome is unknown (a
timeout after sending), the product is read back before any new attempt.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from connectors.base import ImageWrite, WriteMode, WriteResult, marker_generation_id
from connectors.woocommerce.mapping import image_record
from connectors.woocommerce.transport import WooTransport
from sync.errors import ImageError, RemoteConnectionError

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
DETACHED_META = "pergai_detached_"
# Waits before each read-back after an unknown outcome, as fractions of the
# request timeout: the store may still be downloading the image.
READ_BACK_WAITS = (0.0, 0.25, 0.5, 1.0)


def check_image_url(request: ImageWrite) -> None:
    """Reject a URL whose path lacks an image extension before anything is written.

    WooCommerce takes the file name and type from the URL path (the query is
    dropped), so such a URL always fails with "Sorry, you are not allowed to
    upload this file type.", whatever the server sends.
    """
    path = urlsplit(request.url).path
    if posixpath.splitext(path)[1].lower() not in IMAGE_EXTENSIONS:
        raise ImageError(
            f"product {request.product_id}: the image URL path does not end in an image "
            f"extension ({', '.join(IMAGE_EXTENSIONS)}), which WooCommerce requires to accept "
            "it; serve the result under a path ending in e.g. .png"
        )


def _ours(images: Sequence[Mapping[str, Any]], generation_id: str) -> Mapping[str, Any] | None:
    for image in images:
        name_id = marker_generation_id(str(image.get("name") or ""))
        src_id = marker_generation_id(str(image.get("src") or ""))
        if generation_id in (name_id, src_id):
            return image
    return None


def _is_ours(image: Mapping[str, Any]) -> bool:
    name, src = str(image.get("name") or ""), str(image.get("src") or "")
    return bool(marker_generation_id(name) or marker_generation_id(src))


def _detached_from_meta(product: Mapping[str, Any], generation_id: str) -> tuple[str, ...]:
    for entry in product.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") == DETACHED_META + generation_id:
            return tuple(part for part in str(entry.get("value", "")).split(",") if part)
    return ()


class ImageWriter:
    """Writes, finds and reverts our images on one store."""

    def __init__(self, transport: WooTransport, store: str) -> None:
        self.transport = transport
        self.store = store

    async def write(self, request: ImageWrite) -> WriteResult:
        check_image_url(request)
        generation_id = marker_generation_id(request.filename)
        if generation_id is None:
            raise ImageError(f"file name {request.filename!r} carries no pergai marker")
        if request.variant_id:
            return await self._write_variation(request, generation_id)
        return await self._write_product(request, generation_id)

    async def _get(self, endpoint: str) -> dict[str, Any]:
        response = await self.transport.request("GET", endpoint)
        return dict(response.body or {})

    async def _write_product(self, request: ImageWrite, generation_id: str) -> WriteResult:
        endpoint = f"products/{request.product_id}"
        for _ in range(self.transport.retry.attempts):
            product = await self._get(endpoint)
            found = self._present(product.get("images") or [], product, generation_id)
            if found is not None:
                return found
            try:
                return await self._put_product(endpoint, product, request, generation_id)
            except RemoteConnectionError as error:
                if not error.outcome_unknown:
                    raise
                found = await self._read_back(endpoint, generation_id, error)
                if found is not None:
                    return found
        raise RemoteConnectionError(
            f"store '{self.store}': writing the image on product {request.product_id} "
            "kept timing out; it will be retried later",
            service="WooCommerce",
            outcome_unknown=True,
        )

    def _present(
        self, images: Sequence[Mapping[str, Any]], product: Mapping[str, Any], generation_id: str
    ) -> WriteResult | None:
        image = _ours(images, generation_id)
        if image is None:
            return None
        position = images.index(image)
        logger.info(
            "image for generation %s already on product %s",
            generation_id,
            product.get("id"),
            extra={
                "action": "image_already_present",
                "store": self.store,
                "generation": generation_id,
            },
        )
        return WriteResult(
            image=image_record(image, position),
            detached_ids=_detached_from_meta(product, generation_id),
            already_present=True,
        )

    async def _read_back(
        self, endpoint: str, generation_id: str, error: RemoteConnectionError
    ) -> WriteResult | None:
        """Look for our image after a write whose outcome is unknown, a few times."""
        logger.warning(
            "store '%s': image write outcome unknown (%s), reading the product back",
            self.store,
            error,
            extra={
                "action": "image_write_read_back",
                "store": self.store,
                "generation": generation_id,
            },
        )
        for fraction in READ_BACK_WAITS:
            await asyncio.sleep(self.transport.timeout * fraction)
            product = await self._get(endpoint)
            found = self._present(product.get("images") or [], product, generation_id)
            if found is not None:
                return found
        # NOTE: a store still busy with the write after about 1.75 timeouts counts as
        # not having written, so the next attempt can duplicate the image.
        return None

    async def _put_product(
        self, endpoint: str, product: Mapping[str, Any], request: ImageWrite, generation_id: str
    ) -> WriteResult:
        current = list(product.get("images") or [])
        new = {"src": request.url, "name": request.filename, "alt": request.alt}
        ours = [{"id": i["id"]} for i in current if _is_ours(i)]
        everyone = [{"id": i["id"]} for i in current]
        detached: tuple[str, ...] = ()
        data: dict[str, Any]
        if request.mode == WriteMode.FEATURED:
            data = {"images": [new, *everyone]}
        elif request.mode == WriteMode.REPLACE:
            detached = tuple(str(i["id"]) for i in current if {"id": i["id"]} not in ours)
            meta = {"key": DETACHED_META + generation_id, "value": ",".join(detached)}
            data = {"images": [new, *ours], "meta_data": [meta]}
        else:
            data = {"images": [*everyone, new]}

        response = await self.transport.request("PUT", endpoint, data=data, resend_unknown=False)
        images = list((response.body or {}).get("images") or [])
        image = _ours(images, generation_id)
        if image is None:
            image = images[0] if request.mode != WriteMode.ADD else images[-1]
        logger.info(
            "wrote image for generation %s on product %s (%s)",
            generation_id,
            request.product_id,
            request.mode.value,
            extra={
                "action": "image_written",
                "store": self.store,
                "product": request.product_id,
                "generation": generation_id,
            },
        )
        return WriteResult(image=image_record(image, images.index(image)), detached_ids=detached)

    async def _write_variation(self, request: ImageWrite, generation_id: str) -> WriteResult:
        endpoint = f"products/{request.product_id}/variations/{request.variant_id}"
        for _ in range(self.transport.retry.attempts):
            variation = await self._get(endpoint)
            current = variation.get("image")
            current_list = [current] if isinstance(current, dict) else []
            if _ours(current_list, generation_id) is not None:
                return WriteResult(image=image_record(current_list[0], 0), already_present=True)

            data = {"image": {"src": request.url, "name": request.filename, "alt": request.alt}}
            try:
                response = await self.transport.request(
                    "PUT", endpoint, data=data, resend_unknown=False
                )
            except RemoteConnectionError as error:
                if not error.outcome_unknown:
                    raise
                await asyncio.sleep(self.transport.retry.base_delay)
                continue
            detached = tuple(str(i["id"]) for i in current_list if i.get("id"))
            return WriteResult(image=image_record(response.body["image"], 0), detached_ids=detached)
        raise RemoteConnectionError(
            f"store '{self.store}': writing the image on variation {request.variant_id} "
            "kept timing out; it will be retried later",
            service="WooCommerce",
            outcome_unknown=True,
        )

    async def revert(
        self, product_id: str, our_image_ids: tuple[str, ...], detached_ids: tuple[str, ...]
    ) -> None:
        """Drop our images and put the detached originals back first, keeping every other image."""
        product = await self._get(f"products/{product_id}")
        current = [str(i["id"]) for i in product.get("images") or []]
        if not set(our_image_ids) & set(current) and await self._revert_variation(
            product, our_image_ids, detached_ids
        ):
            return

        restored = list(detached_ids)
        restored += [i for i in current if i not in our_image_ids and i not in restored]
        data = {"images": [{"id": int(i)} for i in restored]}
        await self.transport.request("PUT", f"products/{product_id}", data=data)
        logger.info(
            "reverted product %s: removed %d image(s), restored %d",
            product_id,
            len(set(our_image_ids) & set(current)),
            len(detached_ids),
            extra={"action": "image_reverted", "store": self.store, "product": product_id},
        )

    async def _revert_variation(
        self,
        product: Mapping[str, Any],
        our_image_ids: tuple[str, ...],
        detached_ids: tuple[str, ...],
    ) -> bool:
        for variation_id in product.get("variations") or []:
            endpoint = f"products/{product['id']}/variations/{variation_id}"
            variation = await self._get(endpoint)
            image = variation.get("image")
            if isinstance(image, dict) and str(image.get("id")) in our_image_ids:
                data = {"image": {"id": int(detached_ids[0])} if detached_ids else None}
                await self.transport.request("PUT", endpoint, data=data)
                return True
        return False
