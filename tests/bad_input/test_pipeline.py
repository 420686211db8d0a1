"""Broken catalogues, images and stores run through the whole pipeline on a SQLite file.

Each case loads the simulators with one hostile input, runs the engine until
nothing is open, and asserts the stage and reason recorded for the product,
what reached the stores (nothing, for a refused image) and that the daemon's
server still serves. Run: `pytest tests/bad_input/test_pipeline.py -q -s`
(the throttling case prints its request counts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.base import ImageWrite, marker_filename
from simulators.catalogue import SeedImage, SeedProduct
from simulators.shopify.cost import LeakyBucket
from storage.models import ProductLink, RenderStatus, Stage
from tests.acceptance.harness import Simulators
from tests.bad_input.helpers import (
    RunningDaemon,
    pergai_results,
    product,
    running_daemon,
    sparse_png,
)

SLOW = os.environ.get("PERGAI_SYNC_SLOW") == "1"
NO_IMAGE_REASON = "the product has no image to use as a reference"
SHOPIFY_SIZE_REASON = "Shopify accepts at most 20 megapixels and 4472 px a side"
UNICODE_TITLES = [
    "Kapüşonlu Sweatshirt – İğne Işık",
    "Winter coat 🧥🇹🇷 ✨",
    "سترة شتوية دافئة",
    "מעיל חורף",
]


def shopify_media_count(run: RunningDaemon) -> int:
    return len(run.sims.shopify_state.catalogue.media)


def woo_attachment_count(run: RunningDaemon) -> int:
    return len(run.sims.woocommerce_state.media)


def written_alts(run: RunningDaemon) -> dict[str, list[str]]:
    """Alt texts of the images this service wrote, per store."""
    shop = run.sims.shopify_state.catalogue.media.values()
    woo = run.sims.woocommerce_state.media.values()
    return {
        "shop": sorted(m.alt for m in shop if m.filename.startswith("pergai-")),
        "woo": sorted(a.alt for a in woo if a.name.startswith("pergai-")),
    }


async def only_link(run: RunningDaemon, store: str) -> ProductLink:
    links = await run.links(store)
    assert len(links) == 1, links
    return links[0]


async def test_product_without_images_skipped(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, [product("Bare product", images=0)]) as run:
        await run.settle()

        for store in ("shop", "woo"):
            link = await only_link(run, store)
            assert link.stage is Stage.SKIPPED
            assert link.reason == NO_IMAGE_REASON
            assert await run.renders(link) == []
        assert run.sims.pergai_state.products == {}
        await run.assert_still_serving()


def hide_woo_image(sims: Simulators) -> None:
    """Make every image URL of the store return 404, as after its files were deleted."""
    state = sims.woocommerce_state
    for path in list(state.media_by_path):
        del state.media_by_path[path]


async def test_source_image_404_fails_with_reason(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, before_start=hide_woo_image) as run:
        images_before = woo_attachment_count(run)
        await run.settle()

        link = await only_link(run, "woo")
        assert link.stage is Stage.FAILED
        assert link.reason is not None
        assert "imagePath URL" in link.reason
        assert "404" in link.reason
        assert "fix the value it names" in link.reason
        assert woo_attachment_count(run) == images_before
        assert run.sims.pergai_state.products.keys().isdisjoint({link.pergai_product_id})
        await run.assert_still_serving()


async def test_source_not_an_image_fails(tmp_path: Path) -> None:
    broken = SeedProduct(
        title="Broken image",
        categories=[["Clothing"]],
        images=[SeedImage("broken.png", data=b"<html>not an image</html>")],
    )
    async with running_daemon(tmp_path, [broken]) as run:
        media_before = shopify_media_count(run), woo_attachment_count(run)
        await run.settle()

        for store in ("shop", "woo"):
            link = await only_link(run, store)
            assert link.stage is Stage.FAILED, (store, link.reason)
            assert link.reason is not None
            assert "not an image" in link.reason or "not a" in link.reason, link.reason
        assert (shopify_media_count(run), woo_attachment_count(run)) == media_before
        await run.assert_still_serving()


@pytest.mark.parametrize(
    ("width", "height"),
    [(5000, 5000), (4473, 4473)],
    ids=["25 megapixels", "just over 20 megapixels"],
)
async def test_oversized_result_refused_before_shopify(
    width: int, height: int, tmp_path: Path
) -> None:
    """Shopify drops images over 20 MP after accepting them, so they are refused up front."""
    big = sparse_png(width, height)
    async with running_daemon(tmp_path) as run:
        media_before = shopify_media_count(run)
        file_creates = run.sims.shopify_state.counters.get("ok", 0)
        async with pergai_results(run.sims.pergai_state, big) as swapped:
            await run.settle()
        assert swapped

        link = await only_link(run, "shop")
        assert link.stage is Stage.FAILED
        renders = await run.renders(link)
        assert {r.status for r in renders} == {RenderStatus.FAILED}
        for render in renders:
            assert render.reason is not None
            assert f"is {width}x{height} px; {SHOPIFY_SIZE_REASON}" in render.reason
            assert "resize it before writing" in render.reason
        assert shopify_media_count(run) == media_before
        assert run.sims.shopify_state.counters.get("ok", 0) > file_creates
        await run.assert_still_serving()


async def test_unicode_titles_round_trip(tmp_path: Path) -> None:
    products = [product(title) for title in UNICODE_TITLES]
    async with running_daemon(tmp_path, products) as run:
        await run.settle()

        names = sorted(p.name for p in run.sims.pergai_state.products.values())
        assert names == sorted(UNICODE_TITLES * 2)
        prompts = [g.prompt for g in run.sims.pergai_state.generations.values() if g.scene]
        assert len(prompts) == 2 * len(UNICODE_TITLES)
        for title in UNICODE_TITLES:
            assert sum(p.endswith(f"{title} on a clean background") for p in prompts) == 2

        for store in ("shop", "woo"):
            titles = sorted(link.title for link in await run.links(store))
            assert titles == sorted(UNICODE_TITLES)
        expected = sorted(f"{t} – {o}" for t in UNICODE_TITLES for o in ("studio", "remove-bg"))
        assert written_alts(run) == {"shop": expected, "woo": expected}


def woo_ids_above_2_53(sims: Simulators) -> None:
    state = sims.woocommerce_state
    state.products.clear()
    state._next_post_id = 2**53 + 100
    state.load_seed([product("Big id hoodie")])


async def test_catalogue_ids_above_2_53(tmp_path: Path) -> None:
    async with running_daemon(tmp_path, before_start=woo_ids_above_2_53) as run:
        woo_id = min(run.sims.woocommerce_state.products)
        shop_id = min(run.sims.shopify_state.catalogue.products)
        assert woo_id > 2**53
        assert shop_id > 2**53
        await run.settle()

        woo_link = await only_link(run, "woo")
        shop_link = await only_link(run, "shop")
        assert woo_link.product_id == str(woo_id)
        assert shop_link.product_id == f"gid://shopify/Product/{shop_id}"
        assert woo_link.stage is Stage.DONE
        assert shop_link.stage is Stage.DONE
        image_ids = run.sims.woocommerce_state.products[woo_id].image_ids
        assert len(image_ids) == 3 and all(i > 2**53 for i in image_ids)
        assert woo_link.source_image_id == str(image_ids[0])


async def test_future_updated_at_does_not_freeze_cursor(tmp_path: Path) -> None:
    products = [product("From the future"), product("Ordinary hoodie")]
    async with running_daemon(tmp_path, products) as run:
        woo = run.sims.woocommerce_state
        future_id, ordinary_id = sorted(woo.products)
        woo.set_modified(future_id, datetime(2099, 1, 1))
        await run.settle()

        cursor = await run.ctx.repo.get_cursor(run.store("woo").store_id)
        assert cursor is not None
        assert cursor.updated_at <= datetime.now(UTC) + timedelta(seconds=5)
        future = await run.link("woo", str(future_id))
        assert future.stage is Stage.DONE, future.reason

        woo.products[ordinary_id].name = "Ordinary hoodie, renamed"
        woo.touch(woo.products[ordinary_id])
        await run.poll()
        assert (await run.link("woo", str(ordinary_id))).title == "Ordinary hoodie, renamed"

        # The merchant fixes the date: the change stamped now must not look older.
        woo.products[future_id].name = "From the future, fixed"
        woo.touch(woo.products[future_id])
        await run.poll()
        assert (await run.link("woo", str(future_id))).title == "From the future, fixed"


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu"])
async def test_site_time_zone_loses_no_change(zone: str, tmp_path: Path) -> None:
    """modified_after is read in the site's zone unless dates_are_gmt is sent."""

    def set_zone(sims: Simulators) -> None:
        sims.woocommerce_state.settings.site_timezone = zone

    async with running_daemon(tmp_path, before_start=set_zone) as run:
        await run.settle()
        woo = run.sims.woocommerce_state
        product_id = min(woo.products)

        woo.products[product_id].name = f"Renamed in {zone}"
        woo.touch(woo.products[product_id])
        await run.poll()

        assert (await run.link("woo", str(product_id))).title == f"Renamed in {zone}"


async def test_rewrite_after_lost_record_adds_no_duplicate(tmp_path: Path) -> None:
    """A write retried after its record was lost finds the image instead of sending it again.

    WooCommerce makes a new attachment for every ``src`` it is sent, so
    resending a write duplicates the image unless the listing is read first.
    """
    async with running_daemon(tmp_path) as run:
        await run.settle()
        counts = woo_attachment_count(run), shopify_media_count(run)
        images = {
            "woo": list(
                run.sims.woocommerce_state.products[
                    min(run.sims.woocommerce_state.products)
                ].image_ids
            ),
        }

        async with run.ctx.repo.db.engine.begin() as connection:
            await connection.execute(
                text("UPDATE renders SET status = 'completed', next_attempt_at = :now"),
                {"now": datetime.now(UTC).replace(tzinfo=None)},
            )
        for _ in range(3):
            await run.daemon.engine.run_due()

        assert (woo_attachment_count(run), shopify_media_count(run)) == counts
        woo_product = run.sims.woocommerce_state.products[min(run.sims.woocommerce_state.products)]
        assert woo_product.image_ids == images["woo"]
        statuses = {r.status for link in await run.links("woo") for r in await run.renders(link)}
        assert statuses == {RenderStatus.WRITTEN}


async def test_write_sent_twice_adds_one_attachment(tmp_path: Path) -> None:
    async with running_daemon(tmp_path) as run:
        await run.settle()
        link = await only_link(run, "woo")
        render = (await run.renders(link))[0]

        woo_product = run.sims.woocommerce_state.products[int(link.product_id)]
        source = run.sims.woocommerce_state.media[woo_product.image_ids[0]]
        url = f"{run.sims.woocommerce_url}{run.sims.woocommerce_state.media_path(source)}"
        request = ImageWrite(
            product_id=link.product_id,
            url=url,
            filename=marker_filename("0" * 8 + "-0000-0000-0000-" + "0" * 12),
            alt="retried",
        )
        before = woo_attachment_count(run)
        first = await run.store("woo").connector.write_image(request)
        second = await run.store("woo").connector.write_image(request)

        assert not first.already_present
        assert second.already_present
        assert second.image.id == first.image.id
        assert woo_attachment_count(run) == before + 1
        assert render.status is RenderStatus.WRITTEN


def tiny_bucket(sims: Simulators) -> None:
    """A 700-point bucket refilled at 20 points a second: every query fits, few at once."""
    sims.shopify_state.bucket = LeakyBucket(700.0, 20.0)


@pytest.mark.slow
@pytest.mark.skipif(not SLOW, reason="slow: set PERGAI_SYNC_SLOW=1 to run")
async def test_tiny_shopify_bucket_no_request_storm(tmp_path: Path) -> None:
    products = [product(f"Bucket product {n}") for n in range(12)]
    async with running_daemon(tmp_path, products, before_start=tiny_bucket) as run:
        with contextlib.suppress(AssertionError):
            await run.settle(max_wait=30)

        counters = run.sims.shopify_state.counters
        ok, throttled = counters.get("ok", 0), counters.get("throttled", 0)
        print(f"tiny bucket: {ok} answered, {throttled} throttled")
        # Waiting for the bucket to refill means at most one THROTTLED answer per two queries.
        assert throttled <= ok // 2, counters
        # At 20 points a second a product read (about 600 points) takes half a minute,
        # so within the run only some products can finish; none may be failed.
        stages = {link.stage for link in await run.links("shop")}
        assert Stage.DONE in stages
        assert Stage.FAILED not in stages


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_store_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()

    def point_woo_at_closed_port(config: str, sims: Simulators) -> str:
        return config.replace(sims.woocommerce_url, f"http://127.0.0.1:{port}")

    async with running_daemon(tmp_path, edit_config=point_woo_at_closed_port) as run:
        woo = run.store("woo")
        caplog.set_level(logging.INFO)
        for _ in range(3):
            await run.daemon.poll(woo)

        outages = [r for r in caplog.records if getattr(r, "action", None) == "poll_failed"]
        assert len(outages) == 1, [r.getMessage() for r in outages]
        message = outages[0].getMessage()
        assert f"port={port}" in message
        assert "check the store URL and that the site is up" in message
        assert "polling woo failed" in message
        assert run.sims.woocommerce.consumer_secret not in message
        await run.assert_still_serving()
