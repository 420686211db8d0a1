"""Catalogue reads: full, incremental, page edges, changes while paging, bulk and throttling."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.shopify import ShopifyConnector
from connectors.shopify.queries import PAGE_SIZE
from simulators.catalogue import SeedImage, SeedProduct
from simulators.shopify import ShopifySettings

from .conftest import Shop

LATER = datetime.now(UTC) + timedelta(days=1)


async def read_all(
    connector: ShopifyConnector, since: datetime | None = None, until: datetime = LATER
) -> list[str]:
    return [item.product_id async for item in connector.catalogue_changes(since, until)]


async def test_full_read_every_status(shop: Shop) -> None:
    shop.state.generate(50)

    ids = await read_all(shop.connector)

    assert len(ids) == 50
    assert len(set(ids)) == 50
    statuses = {p.status for p in shop.state.catalogue.products.values()}
    assert statuses == {"ACTIVE", "DRAFT"}


async def test_items_carry_images_and_unicode(shop: Shop) -> None:
    shop.state.load_seed(
        [
            SeedProduct(
                title="Şapka 🎩 قبعة",
                tags=["Yaz", "Şık"],
                product_type="Şapkalar",
                images=[SeedImage("hat.png", "Şapka önden")],
            )
        ]
    )

    items = [item async for item in shop.connector.catalogue_changes(None, LATER)]

    assert items[0].title == "Şapka 🎩 قبعة"
    assert items[0].tags == ("Yaz", "Şık")
    assert items[0].categories == ("Şapkalar",)
    assert items[0].images[0].url.endswith("/hat.png")
    assert items[0].images[0].alt == "Şapka önden"


async def test_incremental_inclusive_bound(shop: Shop) -> None:
    old = datetime(2025, 1, 1, tzinfo=UTC)
    edge = datetime(2025, 6, 1, 10, 0, 0, tzinfo=UTC)
    shop.state.catalogue.load_seed([SeedProduct(title="old")], at=old)
    shop.state.catalogue.load_seed(
        [SeedProduct(title="edge a"), SeedProduct(title="edge b")], at=edge
    )

    items = [i async for i in shop.connector.catalogue_changes(edge, LATER)]

    assert sorted(i.title for i in items) == ["edge a", "edge b"]


async def test_same_timestamp_at_page_edge(shop: Shop) -> None:
    stamp = datetime(2025, 6, 1, 10, 0, 0, tzinfo=UTC)
    seeds = [SeedProduct(title=f"p{n}") for n in range(PAGE_SIZE * 2 + 1)]
    shop.state.catalogue.load_seed(seeds[: PAGE_SIZE - 1], at=stamp - timedelta(seconds=1))
    shop.state.catalogue.load_seed(seeds[PAGE_SIZE - 1 :], at=stamp)

    ids = await read_all(shop.connector)

    assert len(ids) == len(seeds)
    assert len(set(ids)) == len(seeds)


async def test_update_while_paging_loses_nothing(shop: Shop) -> None:
    shop.state.generate(PAGE_SIZE * 3)
    products = list(shop.state.catalogue.products.values())
    scan_start = datetime.now(UTC) + timedelta(seconds=5)
    seen: list[str] = []

    async for item in shop.connector.catalogue_changes(None, scan_start):
        seen.append(item.product_id)
        if len(seen) == 1:
            # One product already read and one not yet read change during the scan.
            shop.state.catalogue.clock = lambda: (
                datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
            )
            shop.state.update_product(products[0], title="changed first")
            shop.state.update_product(products[-1], title="changed last")

    assert len(seen) == len(set(seen))
    assert set(seen) == {p.gid for p in products}


async def test_change_after_until_read_next_time(shop: Shop) -> None:
    until = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
    shop.state.catalogue.load_seed(
        [SeedProduct(title=f"p{n}") for n in range(5)], at=until - timedelta(hours=1)
    )
    first = await read_all(shop.connector, None, until)
    product = next(iter(shop.state.catalogue.products.values()))
    shop.state.catalogue.clock = lambda: until + timedelta(seconds=3)
    shop.state.update_product(product, title="later")

    second = await read_all(shop.connector, until, until + timedelta(seconds=10))

    assert len(first) == 5
    assert second == [product.gid]


@pytest.fixture
def bulk_connector(shop: Shop) -> ShopifyConnector:
    shop.connector.bulk_threshold = 10
    return shop.connector


async def test_bulk_read_joins_children(shop: Shop, bulk_connector: ShopifyConnector) -> None:
    shop.state.generate(40, images_per_product=3, variants_per_product=2)

    items = [i async for i in bulk_connector.catalogue_changes(None, LATER)]

    assert len(items) == 40
    assert shop.state.bulk.operations, "a bulk operation should have run"
    by_id = {i.product_id: i for i in items}
    for product in shop.state.catalogue.products.values():
        item = by_id[product.gid]
        assert len(item.images) == 3
        assert len(item.variants) == 2
        assert item.images[0].id == f"gid://shopify/MediaImage/{product.media_ids[0]}"


async def test_bulk_waits_for_running_operation(
    shop: Shop, bulk_connector: ShopifyConnector
) -> None:
    shop.state.generate(20)
    shop.state.settings.bulk_delay = 0.2
    shop.state.bulk.start("{ products { edges { node { id } } } }")

    items = [i async for i in bulk_connector.catalogue_changes(None, LATER)]

    assert len(items) == 20
    assert len(shop.state.bulk.operations) == 2


@pytest.fixture
def settings() -> ShopifySettings:
    return ShopifySettings(seed=3, media_step_delay=0.005, reorder_delay=0.005, bulk_delay=0.005)


async def test_tiny_bucket_no_throttle_storm(shop: Shop) -> None:
    shop.state.generate(30)
    shop.state.settings.bucket_max = 200.0
    shop.state.settings.restore_rate = 2000.0
    shop.state.bucket.maximum = 200.0
    shop.state.bucket.level = 200.0
    shop.state.bucket.restore_rate = 2000.0

    ids = await asyncio.wait_for(read_all(shop.connector), timeout=60)

    assert len(ids) == 30
    assert shop.state.counters.get("throttled", 0) <= 2
    assert shop.state.counters.get("max_cost", 0) == 0


def empty_bucket(shop: Shop, restore_rate: float) -> None:
    bucket = shop.state.bucket
    bucket.level = 0.0
    bucket.stamp = time.monotonic()
    bucket.restore_rate = restore_rate


async def test_throttled_answer_waits_then_retries(shop: Shop) -> None:
    shop.state.generate(3)
    await read_all(shop.connector)
    # Another app empties the bucket: the connector's estimate is stale.
    empty_bucket(shop, restore_rate=1000.0)
    shop.connector.client.forget_costs()
    sent_before = shop.connector.client.requests

    ids = await read_all(shop.connector)

    assert len(ids) == 3
    assert shop.connector.client.throttled >= 1
    assert shop.connector.client.requests - sent_before <= 2 + shop.connector.client.throttled
    assert shop.connector.client.throttled <= 2


async def test_throttled_with_429(shop: Shop) -> None:
    shop.state.generate(3)
    shop.state.settings.throttle_with_429 = True
    empty_bucket(shop, restore_rate=1000.0)

    ids = await read_all(shop.connector)

    assert len(ids) == 3
    assert shop.state.counters.get("throttled", 0) >= 1
