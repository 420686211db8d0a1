"""The Shopify store connector: catalogue reads, image writes and webhooks over GraphQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from connectors.base import (
    CatalogueItem,
    ImageWrite,
    StoreCheck,
    StoreImage,
    WebhookDelivery,
    WriteResult,
)
from connectors.retry import RetryPolicy
from connectors.shopify import queries
from connectors.shopify.bulk import BulkFile, batches
from connectors.shopify.client import SERVICE, ShopifyGraphQL, user_errors
from connectors.shopify.images import ImageWriter
from connectors.shopify.records import connection_nodes, images_from_media, item_from_node
from connectors.shopify.webhooks import parse_delivery
from sync.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    InvalidResponseError,
    RemoteConnectionError,
    ServerError,
)

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2025-01"
REQUIRED_SCOPES = ("read_products", "write_products", "write_files")
WEBHOOK_TOPICS = {
    "PRODUCTS_CREATE": "products/create",
    "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete",
    "APP_UNINSTALLED": "app/uninstalled",
}
STATUSES = "(status:ACTIVE OR status:DRAFT OR status:ARCHIVED)"
BULK_BATCH = 500


def normalise_shop(shop: str) -> str:
    """Return ``name.myshopify.com`` for ``name``, ``name.myshopify.com`` or its https URL."""
    value = shop.strip().lower()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.split("/", 1)[0]
    if not value:
        raise ConfigError("the Shopify shop is empty; set it to the shop's myshopify.com name")
    if "." not in value:
        value = f"{value}.myshopify.com"
    return value


def search_window(since: datetime | None, until: datetime) -> str:
    """Build the products search: inclusive ``updated_at`` bounds and every status."""
    parts = []
    if since is not None:
        parts.append(f"updated_at:>='{utc_text(since)}'")
    parts.append(f"updated_at:<='{utc_text(until)}'")
    parts.append(STATUSES)
    return " AND ".join(parts)


def utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyConnector:
    """A Shopify shop behind the ``connectors.base.StoreConnector`` interface.

    ``shop`` accepts ``acme``, ``acme.myshopify.com`` or ``https://acme.myshopify.com/``;
    ``base_url`` replaces ``https://<shop>`` (tests point it at the simulator).
    A store with more than ``bulk_threshold`` products is read through a bulk
    operation instead of pages. The session is closed only when the connector
    created it.
    """

    platform = "shopify"

    def __init__(
        self,
        store_name: str,
        shop: str,
        access_token: str,
        *,
        api_version: str = DEFAULT_API_VERSION,
        webhook_secret: str = "",
        base_url: str | None = None,
        session: aiohttp.ClientSession | None = None,
        bulk_threshold: int = 10_000,
        timeout: float = 30.0,
        poll_interval: float = 1.0,
        write_timeout: float = 300.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not access_token:
            raise ConfigError(
                f"store '{store_name}': the Shopify access token is empty; set it in the config"
            )
        self.store_name = store_name
        self.shop = normalise_shop(shop)
        self.api_version = api_version
        self._webhook_secret = webhook_secret
        self.base_url = (base_url or f"https://{self.shop}").rstrip("/")
        self.bulk_threshold = bulk_threshold
        self.poll_interval = poll_interval
        self.write_timeout = write_timeout
        self._own_session = session is None
        self.session = session or aiohttp.ClientSession()
        self.client = ShopifyGraphQL(
            store=store_name,
            endpoint=f"{self.base_url}/admin/api/{api_version}/graphql.json",
            access_token=access_token,
            session=self.session,
            timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)),
            retry=retry or RetryPolicy(),
        )
        self.images = ImageWriter(self)

    def __repr__(self) -> str:
        return f"ShopifyConnector(store={self.store_name!r}, shop={self.shop!r})"

    async def __aenter__(self) -> ShopifyConnector:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_session and not self.session.closed:
            await self.session.close()

    # Reading the catalogue

    async def catalogue_changes(
        self, since: datetime | None, until: datetime
    ) -> AsyncIterator[CatalogueItem]:
        """Stream products with ``since <= updatedAt <= until``, each at most once."""
        query = search_window(since, until)
        count = await self.count_products(query)
        logger.info(
            "store '%s': reading %d products (%s)",
            self.store_name,
            count,
            "bulk" if count > self.bulk_threshold else "pages",
            extra={"action": "catalogue_read", "store": self.store_name},
        )
        source = self._bulk(query) if count > self.bulk_threshold else self._pages(query)
        seen: set[str] = set()
        async for item in source:
            if item.product_id in seen:
                continue
            seen.add(item.product_id)
            yield item

    async def count_products(self, query: str | None = None) -> int:
        data = await self.client.execute(queries.PRODUCTS_COUNT, {"query": query})
        return int((data.get("productsCount") or {}).get("count") or 0)

    def page_size(self) -> int:
        """Return the page size: 21 under the 1,000-point limit, fewer for a smaller bucket."""
        size = queries.PAGE_SIZE
        throttle = self.client.throttle
        if throttle is not None and throttle.maximum < queries.MAX_QUERY_COST:
            # Leave a tenth of the bucket spare: Shopify's estimate of a page can run
            # above ours, and a page costing more than the whole bucket never runs.
            size = min(size, int((throttle.maximum * 0.9) // queries.PRODUCT_COST))
        return max(1, size)

    async def _pages(self, query: str) -> AsyncIterator[CatalogueItem]:
        after: str | None = None
        while True:
            variables = {
                "first": self.page_size(),
                "after": after,
                "query": query,
                "mediaFirst": queries.MEDIA_PER_PAGE_PRODUCT,
                "variantsFirst": queries.VARIANTS_PER_PAGE_PRODUCT,
            }
            data = await self.client.execute(queries.PRODUCTS_PAGE, variables)
            page = data.get("products") or {}
            for node in page.get("nodes") or []:
                yield item_from_node(node)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    def product_read_size(self) -> tuple[int, int]:
        """Return how many media and variants one product read requests."""
        throttle = self.client.throttle
        if throttle is None or throttle.maximum >= queries.MAX_QUERY_COST:
            return 250, 100

        # NOTE: in such a small bucket a product with more media than this is read
        # only in part. Writes are unaffected: they read media a page at a time.
        budget = throttle.maximum * 0.9 - 4
        media = max(1, min(250, int((budget * 2 / 3 - 2) // 2)))
        variants = max(1, min(100, int((budget / 3 - 2) // 2)))
        return media, variants

    async def get_product(self, product_id: str) -> CatalogueItem | None:
        node = await self.product_node(product_id)
        return item_from_node(node) if node is not None else None

    async def product_node(self, product_id: str) -> dict[str, Any] | None:
        """Read one product with up to 250 media and 100 variants (about 700 points).

        A bucket under 1,000 points gets fewer of each, so the read fits in it.
        """
        media, variants = self.product_read_size()
        variables = {"id": product_id, "mediaFirst": media, "variantsFirst": variants}
        data = await self.client.execute(queries.PRODUCT, variables)
        node = data.get("product")
        return node if isinstance(node, dict) else None

    async def product_images(self, product_id: str) -> tuple[StoreImage, ...] | None:
        """Read every image of one product, a page of media at a time; None if it is gone."""
        nodes: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            variables = {"id": product_id, "first": queries.MEDIA_PAGE_SIZE, "after": after}
            data = await self.client.execute(queries.PRODUCT_MEDIA, variables)
            product = data.get("product")
            if not isinstance(product, dict):
                return None

            media = product.get("media") or {}
            nodes.extend(connection_nodes(media))
            info = media.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return images_from_media(nodes)
            after = info.get("endCursor")

    # Bulk export

    async def _bulk(self, query: str) -> AsyncIterator[CatalogueItem]:
        url = await self.run_bulk_export(queries.BULK_PRODUCTS % query.replace('"', '\\"'))
        if url is None:
            return
        bulk_file = BulkFile()
        try:
            await self._download(url, bulk_file)
            await asyncio.to_thread(bulk_file.index)
            total = len(bulk_file.parents)
            for start, stop in batches(total, BULK_BATCH):
                for item in await asyncio.to_thread(bulk_file.items, start, stop):
                    yield item
        finally:
            bulk_file.close()

    async def run_bulk_export(self, bulk_query: str) -> str | None:
        """Start a bulk query (waiting out one already running) and return its result URL."""
        deadline = time.monotonic() + self.write_timeout * 4
        while True:
            data = await self.client.execute(queries.BULK_RUN, {"query": bulk_query}, mutation=True)
            payload = data.get("bulkOperationRunQuery") or {}
            errors = user_errors(payload)
            if not errors:
                break
            if errors[0].get("code") != "OPERATION_IN_PROGRESS":
                raise BadRequestError(
                    f"store '{self.store_name}': Shopify rejected the bulk export: "
                    f"{errors[0].get('message')}",
                    service=SERVICE,
                )
            logger.info(
                "store '%s': another bulk operation is running; waiting for it",
                self.store_name,
                extra={"action": "bulk_wait", "store": self.store_name},
            )
            await self._wait_bulk_done(deadline)
        return await self._wait_bulk_done(deadline)

    async def _wait_bulk_done(self, deadline: float) -> str | None:
        while time.monotonic() < deadline:
            data = await self.client.execute(queries.BULK_CURRENT)
            operation = data.get("currentBulkOperation") or {}
            status = operation.get("status")
            if status == "COMPLETED":
                url = operation.get("url")
                return str(url) if url else None
            if status in ("FAILED", "CANCELED", "EXPIRED"):
                raise ServerError(
                    f"store '{self.store_name}': Shopify's bulk export ended {status} "
                    f"({operation.get('errorCode')}); the next sync tries again",
                    service=SERVICE,
                )
            if status is None:
                return None
            await asyncio.sleep(self.poll_interval)
        raise ServerError(
            f"store '{self.store_name}': Shopify's bulk export did not finish in time",
            service=SERVICE,
        )

    async def _download(self, url: str, bulk_file: BulkFile) -> None:
        try:
            async with self.session.get(url) as response:
                if response.status != 200:
                    raise ServerError(
                        f"store '{self.store_name}': downloading the bulk export failed "
                        f"with HTTP {response.status}",
                        service=SERVICE,
                        status=response.status,
                    )
                async for chunk in response.content.iter_chunked(1 << 16):
                    await asyncio.to_thread(bulk_file.write, chunk)
        except aiohttp.ClientError as error:
            raise RemoteConnectionError(
                f"store '{self.store_name}': downloading the bulk export failed ({error})",
                service=SERVICE,
            ) from error

    # Writing images

    async def write_image(self, request: ImageWrite) -> WriteResult:
        return await self.images.write(request)

    async def revert(
        self, product_id: str, our_image_ids: tuple[str, ...], detached_ids: tuple[str, ...]
    ) -> None:
        await self.images.revert(product_id, our_image_ids, detached_ids)

    # Webhooks

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        return parse_delivery(self._webhook_secret, headers, body, self.store_name)

    async def register_webhooks(self, callback_url: str) -> list[str]:
        """Subscribe the product and uninstall topics; an existing subscription counts as done.

        The privacy topics (customers/data_request, customers/redact, shop/redact)
        cannot be subscribed through the API: they are set in the app's configuration.
        """
        topics = []
        for enum_value, topic in WEBHOOK_TOPICS.items():
            data = await self.client.execute(
                queries.WEBHOOK_CREATE, {"topic": enum_value, "url": callback_url}, mutation=True
            )
            errors = user_errors(data.get("webhookSubscriptionCreate"))
            if errors and not all("already been taken" in str(e.get("message")) for e in errors):
                raise BadRequestError(
                    f"store '{self.store_name}': Shopify rejected the {topic} webhook: "
                    f"{errors[0].get('message')}",
                    service=SERVICE,
                )
            topics.append(topic)
        return topics

    # Credentials

    async def check(self) -> StoreCheck:
        data = await self.client.execute(queries.CHECK)
        shop = data.get("shop") or {}
        installation = data.get("currentAppInstallation") or {}
        scopes = tuple(str(s.get("handle")) for s in installation.get("accessScopes") or [])
        missing = [scope for scope in REQUIRED_SCOPES if scope not in scopes]
        if missing:
            raise AuthenticationError(
                f"store '{self.store_name}': the Shopify app lacks the scopes "
                f"{', '.join(missing)}; "
                "add them to the app and reinstall it on the shop",
                service=SERVICE,
                status=403,
            )
        if not shop.get("name"):
            raise InvalidResponseError(
                f"store '{self.store_name}': Shopify returned no shop name", service=SERVICE
            )
        return StoreCheck(shop_name=str(shop["name"]), scopes=scopes)
