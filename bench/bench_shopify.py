"""Benchmark the Shopify connector against the simulator over loopback.

The simulator runs in its own process, so timings and memory are the
connector's alone.

1. Import: read N products with the cost bucket off and compare with merely
   downloading the same data in the same run (the same product pages without
   building records, or for a bulk export the same JSONL file without parsing
   it). Reports the time ratio and the import's peak Python memory
   (tracemalloc, which also slows the import a little).
2. Pacing: with Standard limits (2,000 points, 100 a second) read pages for
   ``--paced-seconds`` and report the points used per second as a ratio of the
   restore rate, with and without the bucket's initial credit.

Usage: python bench/bench_shopify.py --products 100000 [--mode auto|pages|bulk] [--paced-seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from connectors.shopify import ShopifyConnector, queries
from connectors.shopify.connector import search_window
from simulators.shopify import ShopifySettings

TOKEN = ShopifySettings.access_token
SHOP = ShopifySettings.shop
START_TIMEOUT = 600.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def simulator(products: int, *extra: str) -> AsyncIterator[str]:
    """Start ``python -m simulators.shopify`` with ``products`` generated; yield its URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.shopify",
        "--port",
        str(port),
        "--generate",
        str(products),
        *extra,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while not (await process.stdout.readline()).startswith(b"products:"):
                pass
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        await process.wait()


async def download_pages(base_url: str, query: str) -> int:
    """Fetch every page of the products query and count nodes, without building records."""
    endpoint = f"{base_url}/admin/api/2025-01/graphql.json"
    count, after = 0, None
    async with aiohttp.ClientSession() as session:
        while True:
            variables: dict[str, Any] = {
                "first": queries.PAGE_SIZE,
                "after": after,
                "query": query,
                "mediaFirst": queries.MEDIA_PER_PAGE_PRODUCT,
                "variantsFirst": queries.VARIANTS_PER_PAGE_PRODUCT,
            }
            body = {"query": queries.PRODUCTS_PAGE, "variables": variables}
            headers = {"X-Shopify-Access-Token": TOKEN}
            async with session.post(endpoint, json=body, headers=headers) as response:
                page = (await response.json())["data"]["products"]
            count += len(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return count
            after = page["pageInfo"]["endCursor"]


async def download_bulk(connector: ShopifyConnector, query: str) -> int:
    """Run the same bulk export and download its file, counting bytes without parsing."""
    url = await connector.run_bulk_export(queries.BULK_PRODUCTS % query)
    size = 0
    if url is not None:
        async with connector.session.get(url) as response:
            async for chunk in response.content.iter_chunked(1 << 16):
                size += len(chunk)
    return size


async def import_all(connector: ShopifyConnector, until: datetime) -> int:
    count = 0
    async for _item in connector.catalogue_changes(None, until):
        count += 1
    return count


async def bench_import(products: int, mode: str) -> None:
    threshold = {"pages": products + 1, "bulk": 0}.get(mode, 10_000)
    bulk = products > threshold
    until = datetime.now(UTC) + timedelta(hours=1)
    query = search_window(None, until)

    async with (
        simulator(products, "--no-bucket") as base_url,
        ShopifyConnector(
            "bench", SHOP, TOKEN, base_url=base_url, bulk_threshold=threshold, poll_interval=0.1
        ) as connector,
    ):
        started = time.perf_counter()
        downloaded = await (
            download_bulk(connector, query) if bulk else download_pages(base_url, query)
        )
        download_time = time.perf_counter() - started

        started = time.perf_counter()
        imported = await import_all(connector, until)
        import_time = time.perf_counter() - started

        tracemalloc.start()
        await import_all(connector, until)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    unit = "bytes of JSONL" if bulk else "products"
    print(f"download only: {downloaded} {unit} in {download_time:.2f} s")
    print(
        f"import ({'bulk export' if bulk else 'pages'}): {imported} products in {import_time:.2f} s"
    )
    print(f"import / download time ratio: {import_time / download_time:.2f}")
    print(f"peak traced Python memory of the import: {peak / 2**20:.1f} MiB")


async def bench_pacing(products: int, seconds: float) -> None:
    settings = ShopifySettings()
    until = datetime.now(UTC) + timedelta(hours=1)
    async with (
        simulator(products) as base_url,
        ShopifyConnector(
            "bench", SHOP, TOKEN, base_url=base_url, bulk_threshold=products + 1
        ) as connector,
    ):
        started = time.perf_counter()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await import_all(connector, until)
        except TimeoutError:
            pass
        elapsed = time.perf_counter() - started
        client = connector.client
        left = client.throttle.available_now() if client.throttle else settings.bucket_max

    used = client.points_used
    credit = settings.bucket_max - left
    print(
        f"paced run: {client.requests} requests in {elapsed:.1f} s, "
        f"{client.throttled} throttled answers"
    )
    print(
        f"points used per second: {used / elapsed:.1f} (restore rate {settings.restore_rate:.0f})"
    )
    print(
        f"ratio to restore rate: {used / elapsed / settings.restore_rate:.2f}; "
        "without the bucket's initial credit: "
        f"{(used - credit) / elapsed / settings.restore_rate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Benchmark the Shopify connector against the simulator."
    )
    parser.add_argument(
        "--products", type=int, default=100_000, help="catalogue size for the import"
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "pages", "bulk"),
        default="auto",
        help="auto reads by bulk export above 10,000 products, like the connector",
    )
    parser.add_argument(
        "--paced-products", type=int, default=2_000, help="catalogue size for the paced run"
    )
    parser.add_argument(
        "--paced-seconds", type=float, default=30.0, help="length of the paced run in seconds"
    )
    arguments = parser.parse_args()
    asyncio.run(bench_import(arguments.products, arguments.mode))
    if arguments.paced_seconds > 0:
        asyncio.run(bench_pacing(arguments.paced_products, arguments.paced_seconds))


if __name__ == "__main__":
    main()
