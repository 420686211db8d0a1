"""Benchmark: import a 20,000-product WooCommerce catalogue from the simulator.

Reports the connector's import time as a ratio to merely downloading the same
pages (same requests, no parsing into catalogue items) in the same run, and
the peak resident memory of the process, which runs the simulator too.

    python bench/bench_woocommerce.py [--products 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from datetime import UTC, datetime

from connectors.retry import RetryPolicy
from connectors.woocommerce import WooCommerceConnector
from simulators.server import serve
from simulators.woocommerce import WooSettings, WooState, create_app


async def download_pages(connector: WooCommerceConnector, variable_ids: list[int]) -> int:
    """Fetch every product page and every variable product's variations, and nothing else."""
    transport = connector.transport
    page, total_pages, rows = 1, 1, 0
    params = {"per_page": 100, "orderby": "id", "order": "asc"}
    while page <= total_pages:
        response = await transport.request("GET", "products", params={**params, "page": page})
        rows += len(response.body)
        total_pages = response.header_int("X-WP-TotalPages") or 0
        page += 1
    semaphore = asyncio.Semaphore(connector.max_workers)

    async def variations(product_id: int) -> None:
        async with semaphore:
            await transport.request(
                "GET", f"products/{product_id}/variations", params={"per_page": 100}
            )

    await asyncio.gather(*(variations(i) for i in variable_ids))
    return rows


async def main(count: int, workers: int) -> None:
    settings = WooSettings()
    state = WooState(settings)
    started = time.perf_counter()
    state.generate(count)
    generated = time.perf_counter() - started
    variable_ids = [p.id for p in state.products.values() if p.type == "variable"]

    async with serve(create_app(settings, state)) as url:
        connector = WooCommerceConnector(
            "bench",
            url,
            settings.consumer_key,
            settings.consumer_secret,
            webhook_secret="bench",
            max_workers=workers,
            retry=RetryPolicy(attempts=3, base_delay=0.1),
        )
        try:
            started = time.perf_counter()
            rows = await download_pages(connector, variable_ids)
            download = time.perf_counter() - started

            started = time.perf_counter()
            items = 0
            async for _ in connector.catalogue_changes(None, datetime.now(UTC)):
                items += 1
            imported = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        finally:
            await connector.aclose()

    print(f"catalogue generated   {count} products in {generated:.1f} s")
    print(f"download only         {rows} products in {download:.1f} s")
    print(f"connector import      {items} products in {imported:.1f} s")
    print(f"import / download     {imported / download:.2f}")
    print(f"peak process RSS      {peak / 1_000_000:.1f} MB (simulator included)")
    if items != count:
        raise SystemExit(f"imported {items} products, expected {count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000, help="catalogue size")
    parser.add_argument("--workers", type=int, default=4, help="connector thread pool size")
    args = parser.parse_args()
    asyncio.run(main(args.products, args.workers))
