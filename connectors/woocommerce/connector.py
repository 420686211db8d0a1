"""The WooCommerce store connector: REST v3 through the ``woocommerce`` package.

Authentication follows the package: HTTP Basic over HTTPS (or the
``consumer_key``/``consumer_secret`` query with ``query_string_auth``) and
OAuth 1.0a over plain HTTP, signed afresh for every request.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CatalogueItem, ImageWrite, StoreCheck, WebhookDelivery, WriteResult
from connectors.retry import RetryPolicy
from connectors.woocommerce.catalogue import CatalogueScan, fetch_category_paths, fetch_variations
from connectors.woocommerce.mapping import catalogue_item
from connectors.woocommerce.transport import WooTransport
from connectors.woocommerce.webhook import parse_delivery
from connectors.woocommerce.writeback import ImageWriter
from sync.errors import AuthenticationError, NotFoundError

logger = logging.getLogger(__name__)

WEBHOOK_TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored")


class WooCommerceConnector:
    """A ``StoreConnector`` for one WooCommerce store.

    ``timeout`` (seconds) bounds each HTTP request and is well above the
    package's 5 s because the store downloads the image during an image
    write. ``max_workers`` bounds the thread pool the synchronous package
    runs in. ``overlap`` widens incremental windows backwards, because the
    store compares modification times strictly at one-second resolution.
    ``verify_ssl`` is passed to requests: a bool, or the path of a CA bundle.
    """

    platform = "woocommerce"

    def __init__(
        self,
        store_name: str,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        webhook_secret: str,
        query_string_auth: bool = False,
        timeout: float = 60.0,
        max_workers: int = 4,
        retry: RetryPolicy | None = None,
        overlap: timedelta = timedelta(seconds=2),
        verify_ssl: bool | str = True,
    ) -> None:
        self.store_name = store_name
        self.url = url.rstrip("/")
        self.max_workers = max_workers
        self.overlap = overlap
        self._webhook_secret = webhook_secret
        self.transport = WooTransport(
            store_name,
            self.url,
            consumer_key,
            consumer_secret,
            query_string_auth=query_string_auth,
            timeout=timeout,
            max_workers=max_workers,
            retry=retry or RetryPolicy(),
            verify_ssl=verify_ssl,
        )
        self.writer = ImageWriter(self.transport, store_name)

    def __repr__(self) -> str:
        return f"WooCommerceConnector(store_name={self.store_name!r}, url={self.url!r})"

    async def catalogue_changes(
        self, since: datetime | None, until: datetime
    ) -> AsyncIterator[CatalogueItem]:
        scan = CatalogueScan(
            self.transport, since, until, overlap=self.overlap, concurrency=self.max_workers
        )
        count = 0
        async for item in scan.items():
            count += 1
            yield item
        logger.info(
            "store '%s': read %d changed product(s)",
            self.store_name,
            count,
            extra={"action": "catalogue_read", "store": self.store_name},
        )

    async def get_product(self, product_id: str) -> CatalogueItem | None:
        try:
            response = await self.transport.request("GET", f"products/{product_id}")
        except NotFoundError:
            return None
        product: dict[str, Any] = response.body or {}
        variations: list[dict[str, Any]] = []
        if product.get("type") == "variable" and product.get("variations"):
            variations = await fetch_variations(self.transport, int(product["id"]))
        paths = await fetch_category_paths(self.transport) if product.get("categories") else {}
        return catalogue_item(product, variations=variations, category_paths=paths)

    async def write_image(self, request: ImageWrite) -> WriteResult:
        return await self.writer.write(request)

    async def revert(
        self, product_id: str, our_image_ids: tuple[str, ...], detached_ids: tuple[str, ...]
    ) -> None:
        await self.writer.revert(product_id, our_image_ids, detached_ids)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        return parse_delivery(self.store_name, self._webhook_secret, headers, body)

    async def register_webhooks(self, callback_url: str) -> list[str]:
        """Create (or re-key) one webhook per product topic pointing at ``callback_url``."""
        existing = await self._webhooks()
        for topic in WEBHOOK_TOPICS:
            match = next(
                (
                    w
                    for w in existing
                    if w.get("topic") == topic and w.get("delivery_url") == callback_url
                ),
                None,
            )
            data = {"secret": self._webhook_secret, "status": "active"}
            if match is not None:
                await self.transport.request("PUT", f"webhooks/{match['id']}", data=data)
                continue
            data.update(
                {"name": f"pergai-sync {topic}", "topic": topic, "delivery_url": callback_url}
            )
            await self.transport.request("POST", "webhooks", data=data)
        logger.info(
            "store '%s': webhooks registered for %s",
            self.store_name,
            ", ".join(WEBHOOK_TOPICS),
            extra={"action": "webhooks_registered", "store": self.store_name},
        )
        return list(WEBHOOK_TOPICS)

    async def _webhooks(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            response = await self.transport.request(
                "GET", "webhooks", params={"per_page": 100, "page": page}
            )
            rows.extend(response.body or [])
            total_pages = response.header_int("X-WP-TotalPages") or 0
            page += 1
        return rows

    async def check(self) -> StoreCheck:
        """Read one product page, then probe write permission with an empty batch."""
        await self.transport.request("GET", "products", params={"per_page": 1})
        scopes = ["read"]
        try:
            await self.transport.request("POST", "products/batch", data={})
            scopes.append("write")
        except AuthenticationError as error:
            if error.status != 401 or "read-only" not in str(error):
                raise
        return StoreCheck(shop_name=self.url, scopes=tuple(scopes))

    async def aclose(self) -> None:
        await self.transport.aclose()
