"""Full and incremental catalogue reads against the simulator over loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from connectors.base import CatalogueItem
from connectors.woocommerce import WooCommerceConnector
from tests.integration.woocommerce.conftest import Store, make_connector


def utc_now() -> datetime:
    return datetime.now(UTC)


async def read_all(
    connector: WooCommerceConnector, since: datetime | None, until: datetime
) -> list[CatalogueItem]:
    return [item async for item in connector.catalogue_changes(since, until)]


async def test_full_read_returns_every_product(
    store: Store, connector: WooCommerceConnector
) -> None:
    items = await read_all(connector, None, utc_now())

    by_title = {item.title: item for item in items}
    assert len(items) == 3
    hoodie = by_title["Hoodie with Logo"]
    assert hoodie.categories == ("Clothing", "Hoodies")
    assert hoodie.tags == ("warm",)
    assert [i.alt for i in hoodie.images] == ["Hoodie photo"]
    assert hoodie.updated_at.tzinfo is not None


async def test_full_read_fetches_variations_with_images(
    store: Store, connector: WooCommerceConnector
) -> None:
    items = await read_all(connector, None, utc_now())

    tee = next(item for item in items if item.title == "V-Neck T-Shirt")
    assert tee.product_type == "variable"
    assert len(tee.variants) == 2
    images = {v.title: v.image for v in tee.variants}
    assert images["V-Neck T-Shirt - Red"] is not None
    assert images["V-Neck T-Shirt - Blue"] is None


async def test_unicode_names_round_trip(store: Store, connector: WooCommerceConnector) -> None:
    items = await read_all(connector, None, utc_now())

    unicode_item = next(item for item in items if item.title.startswith("Kahve"))
    assert unicode_item.title == "Kahve Fincanı ☕ Çay – «خاص»"
    assert unicode_item.categories == ("Ev & Yaşam", "Mutfak")


async def test_incremental_uses_gmt_in_non_utc_site(
    store: Store, connector: WooCommerceConnector
) -> None:
    base = datetime(2026, 1, 10, 12, 0, 0)
    ids = sorted(store.state.products)
    for offset, product_id in enumerate(ids):
        store.state.set_modified(product_id, base + timedelta(hours=offset))
    since = (base + timedelta(hours=1)).replace(tzinfo=UTC)

    items = await read_all(connector, since, utc_now())

    assert store.state.zone.utcoffset(base) == timedelta(hours=3)
    assert sorted(int(i.product_id) for i in items) == ids[1:]
    assert all(i.updated_at >= since for i in items)


async def test_incremental_keeps_same_second_products(
    store: Store, connector: WooCommerceConnector
) -> None:
    moment = datetime(2026, 2, 1, 8, 30, 15)
    ids = sorted(store.state.products)
    for product_id in ids:
        store.state.set_modified(product_id, datetime(2026, 1, 1))
    store.state.set_modified(ids[0], moment)
    store.state.set_modified(ids[2], moment)

    since = moment.replace(tzinfo=UTC, microsecond=400000)
    items = await read_all(connector, since, utc_now())

    assert sorted(int(i.product_id) for i in items) == [ids[0], ids[2]]


async def test_incremental_excludes_after_until(
    store: Store, connector: WooCommerceConnector
) -> None:
    ids = sorted(store.state.products)
    store.state.set_modified(ids[0], datetime(2026, 3, 1, 10, 0, 0))
    store.state.set_modified(ids[1], datetime(2026, 3, 1, 10, 0, 5))
    store.state.set_modified(ids[2], datetime(2026, 3, 1, 10, 0, 6))

    since = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    until = datetime(2026, 3, 1, 10, 0, 5, 500000, tzinfo=UTC)
    items = await read_all(connector, since, until)

    assert sorted(int(i.product_id) for i in items) == [ids[0], ids[1]]


async def test_product_modified_while_paging_loses_nothing(store: Store) -> None:
    store.state.generate(250, variable_every=0, start=datetime(2026, 1, 1))
    expected = set(store.state.products)
    connector = make_connector(store.url, store.settings)
    until = utc_now()
    early_ids = sorted(expected)[:5]

    seen: list[int] = []
    try:
        async for item in connector.catalogue_changes(None, until):
            seen.append(int(item.product_id))
            if len(seen) == 1:
                # Move five page-one products out of the window while page 2 is unread.
                for product_id in early_ids:
                    store.state.touch(store.state.products[product_id])
                store.state.clock = lambda: (
                    datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)
                )
                for product_id in early_ids:
                    store.state.touch(store.state.products[product_id])
    finally:
        await connector.aclose()

    assert len(seen) == len(set(seen))
    assert set(seen) >= expected - set(early_ids)


async def test_concurrent_scans_do_not_block_loop(
    store: Store, connector: WooCommerceConnector
) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    try:
        await read_all(connector, None, utc_now())
    finally:
        task.cancel()
    assert ticks > 1
