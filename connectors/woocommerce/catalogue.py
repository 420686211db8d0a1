"""Reading a WooCommerce catalogue: full and incremental scans that lose nothing.

Pages are ordered by id (the default date order has no tie-breaker and
repeats or skips products created in the same second). Incremental scans
filter on the GMT column (``dates_are_gmt=true`` with a naive UTC value),
which WooCommerce compares strictly at one-second resolution, so the window
starts a little before ``since`` and rows are de-duplicated by id. When the
total shrinks between pages (a product left the filter while paging), the
scan steps back so the rows that moved to earlier pages are read too.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CatalogueItem
from connectors.woocommerce.mapping import catalogue_item, wire_gmt
from connectors.woocommerce.transport import WooTransport
from sync.errors import AuthenticationError, BadRequestError, NotFoundError

logger = logging.getLogger(__name__)

PER_PAGE = 100
MAX_STEP_BACKS = 50


async def fetch_variations(transport: WooTransport, product_id: int) -> list[dict[str, Any]]:
    """Return every variation of a variable product, with its image."""
    rows: list[dict[str, Any]] = []
    page, total_pages = 1, 1
    while page <= total_pages:
        response = await transport.request(
            "GET",
            f"products/{product_id}/variations",
            params={"per_page": PER_PAGE, "page": page, "orderby": "id", "order": "asc"},
        )
        rows.extend(response.body or [])
        total_pages = response.header_int("X-WP-TotalPages") or 0
        page += 1
    return rows


async def fetch_category_paths(transport: WooTransport) -> dict[int, tuple[str, ...]]:
    """Return root-first category paths by id; empty when the store does not serve categories."""
    terms: dict[int, tuple[str, int]] = {}
    page, total_pages = 1, 1
    try:
        while page <= total_pages:
            response = await transport.request(
                "GET", "products/categories", params={"per_page": PER_PAGE, "page": page}
            )
            for term in response.body or []:
                terms[int(term["id"])] = (str(term.get("name", "")), int(term.get("parent") or 0))
            total_pages = response.header_int("X-WP-TotalPages") or 0
            page += 1
    except (NotFoundError, BadRequestError, AuthenticationError) as error:
        logger.info("categories unavailable, using names as given: %s", error)
        return {}
    return {term_id: _path(terms, term_id) for term_id in terms}


def _path(terms: Mapping[int, tuple[str, int]], term_id: int) -> tuple[str, ...]:
    path: list[str] = []
    seen: set[int] = set()
    while term_id in terms and term_id not in seen:
        seen.add(term_id)
        name, parent = terms[term_id]
        path.insert(0, name)
        term_id = parent
    return tuple(path)


def scan_params(since: datetime | None, until: datetime, overlap: timedelta) -> dict[str, Any]:
    params: dict[str, Any] = {"per_page": PER_PAGE, "orderby": "id", "order": "asc"}
    params["dates_are_gmt"] = "true"
    # modified_before is strict at one-second resolution: the next second includes ``until``.
    params["modified_before"] = wire_gmt(until.replace(microsecond=0) + timedelta(seconds=1))
    if since is not None:
        params["modified_after"] = wire_gmt(since.replace(microsecond=0) - overlap)
    return params


class CatalogueScan:
    """One streaming pass over the products changed in a window."""

    def __init__(
        self,
        transport: WooTransport,
        since: datetime | None,
        until: datetime,
        *,
        overlap: timedelta,
        concurrency: int,
    ) -> None:
        self.transport = transport
        self.since = since.replace(microsecond=0) if since else None
        self.until = until
        self.params = scan_params(since, until, overlap)
        self.seen: set[int] = set()
        self.skipped_older = 0
        self._semaphore = asyncio.Semaphore(concurrency)

    async def items(self) -> AsyncIterator[CatalogueItem]:
        paths = await fetch_category_paths(self.transport)
        page, total, step_backs = 1, None, 0
        while True:
            response = await self.transport.request(
                "GET", "products", params={**self.params, "page": page}
            )
            new_total = response.header_int("X-WP-Total") or 0
            if total is not None and new_total < total and page > 1 and step_backs < MAX_STEP_BACKS:
                # Rows left the filter while paging: rows behind them moved to earlier pages.
                back = math.ceil((total - new_total) / PER_PAGE)
                total, page, step_backs = new_total, max(1, page - back), step_backs + 1
                continue
            total = new_total

            rows = [row for row in response.body or [] if self._take(row)]
            for item in await asyncio.gather(*(self._item(row, paths) for row in rows)):
                yield item
            total_pages = response.header_int("X-WP-TotalPages") or 0
            if page >= total_pages or not response.body:
                break
            page += 1
        if self.skipped_older:
            logger.debug("skipped %d products modified before the window", self.skipped_older)

    def _take(self, row: Mapping[str, Any]) -> bool:
        product_id = int(row["id"])
        if product_id in self.seen:
            return False
        self.seen.add(product_id)
        item_time = catalogue_item(row).updated_at
        if self.since is not None and item_time < self.since:
            self.skipped_older += 1
            return False
        return item_time <= self.until

    async def _item(
        self, row: Mapping[str, Any], paths: Mapping[int, tuple[str, ...]]
    ) -> CatalogueItem:
        variations: list[dict[str, Any]] = []
        if row.get("type") == "variable" and row.get("variations"):
            async with self._semaphore:
                variations = await fetch_variations(self.transport, int(row["id"]))
        return catalogue_item(row, variations=variations, category_paths=paths)
