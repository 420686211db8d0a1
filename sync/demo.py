"""`pergai-sync demo`: the whole job on local simulators, with nothing but the package.

The demo starts the Shopify, WooCommerce and PergAI simulators on free
loopback ports and loads a catalogue into each store. It then writes a
config and runs the daemon until every product has settled, with webhooks
and polling both live. Last, it prints a summary and saves the written-back
images in a folder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
from rich.console import Console

from connectors.base import StoreImage, marker_filename
from simulators.catalogue import SeedProduct
from simulators.pergai import PergaiSimSettings, new_api_key
from simulators.pergai import create_app as pergai_app
from simulators.server import serve
from simulators.shopify import STATE_KEY as SHOPIFY_STATE
from simulators.shopify import ShopifySettings
from simulators.shopify import create_app as shopify_app
from simulators.woocommerce import STATE_KEY as WOOCOMMERCE_STATE
from simulators.woocommerce import WooSettings
from simulators.woocommerce import create_app as woocommerce_app
from storage.migrate import upgrade
from sync.commands import print_status
from sync.config import DEMO_SECRET_VARS, demo_config, load_config
from sync.context import Context
from sync.daemon import Daemon
from sync.demo_catalogue import demo_catalogue
from sync.errors import ConfigError
from sync.runtime import open_context, platform_of

logger = logging.getLogger(__name__)
console = Console()

SHOP = "pergai-demo.myshopify.com"


def free_port() -> int:
    """Return a loopback port that was free a moment ago, for the daemon's webhook server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def read_catalogue(path: Path | None) -> list[SeedProduct]:
    """Return the demo's own catalogue, or a merchant's WooCommerce or Shopify CSV export."""
    if path is None:
        return demo_catalogue()

    from simulators.catalogue_csv import read_catalogue_csv

    try:
        return read_catalogue_csv(path)
    except ValueError as error:
        raise ConfigError(str(error)) from error


def clear_previous_run(output: Path, *, default_database: bool) -> None:
    """Remove what an earlier demo left in ``output``: its records name simulators now gone."""
    output.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(output / "images", ignore_errors=True)
    if default_database:
        for name in ("pergai-sync.sqlite", "pergai-sync.sqlite-wal", "pergai-sync.sqlite-shm"):
            (output / name).unlink(missing_ok=True)


def write_file(file: Path, data: bytes) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)


def file_name(image: StoreImage) -> str:
    return marker_filename(image.generation_id or image.id.rsplit("/", 1)[-1])


async def save_image(session: aiohttp.ClientSession, url: str, file: Path) -> None:
    async with session.get(url) as response:
        response.raise_for_status()
        data = await response.read()
    await asyncio.to_thread(write_file, file, data)


async def save_written_images(ctx: Context, folder: Path) -> int:
    """Download every image pergai-sync wrote to the store listings into ``folder``."""
    saved = 0
    async with aiohttp.ClientSession() as session:
        for name, store in ctx.stores.items():
            for target in await ctx.repo.revert_targets(store.store_id):
                product = await store.connector.get_product(target.link.product_id)
                written = {render.store_image_id for render in target.renders}
                for image in product.images if product else ():
                    if image.id in written:
                        await save_image(session, image.url, folder / name / file_name(image))
                        saved += 1
    return saved


async def run_demo(
    output: Path, catalogue: Path | None, max_wait: float, database_url: str | None = None
) -> int:
    """Run the demo in ``output`` (config, database, images); return the exit code."""
    await asyncio.to_thread(clear_previous_run, output, default_database=database_url is None)
    products = await asyncio.to_thread(read_catalogue, catalogue)
    pergai_key = new_api_key()
    shopify = ShopifySettings(shop=SHOP.split(".")[0])
    woocommerce = WooSettings()

    async with AsyncExitStack() as stack:
        pergai_url = await stack.enter_async_context(
            serve(pergai_app(PergaiSimSettings(api_key=pergai_key)))
        )
        shop_app = shopify_app(shopify)
        shop_app[SHOPIFY_STATE].load_seed(products)
        shopify_url = await stack.enter_async_context(serve(shop_app))
        woo_app = woocommerce_app(woocommerce)
        woo_app[WOOCOMMERCE_STATE].load_seed(products)
        woocommerce_url = await stack.enter_async_context(serve(woo_app))

        port = free_port()
        config_file = output / "pergai-sync.toml"
        config_text = demo_config(
            pergai_url=f"{pergai_url}/api/external/v1",
            shopify_url=shopify_url,
            woocommerce_url=woocommerce_url,
            shopify_shop=SHOP,
            database_url=database_url,
            server_port=port,
            public_url=f"http://127.0.0.1:{port}",
            poll_interval="10s",
        )
        # Simulated jobs take seconds, so check them often and finish the demo quickly.
        config_text += '\n[daemon]\njob_check_interval = "1s"\ndrain_interval = "1s"\n'
        await asyncio.to_thread(write_file, config_file, config_text.encode("utf-8"))
        os.environ.update(
            {
                DEMO_SECRET_VARS["pergai_api_key"]: pergai_key,
                DEMO_SECRET_VARS["shopify_access_token"]: shopify.access_token,
                DEMO_SECRET_VARS["shopify_webhook_secret"]: shopify.webhook_secret,
                DEMO_SECRET_VARS["woocommerce_consumer_key"]: woocommerce.consumer_key,
                DEMO_SECRET_VARS["woocommerce_consumer_secret"]: woocommerce.consumer_secret,
                DEMO_SECRET_VARS["woocommerce_webhook_secret"]: "demo-webhook-secret",
            }
        )
        settings = load_config(config_file)
        console.print(
            f"simulators: PergAI {pergai_url}, Shopify {shopify_url}, "
            f"WooCommerce {woocommerce_url}; {len(products)} products in each store; "
            f"config {config_file}"
        )

        await upgrade(settings.database.url)
        async with open_context(settings) as ctx:
            for name, store in ctx.stores.items():
                url = settings.server.webhook_url(platform_of(store.config), name)
                assert url is not None
                await store.connector.register_webhooks(url)
            daemon = Daemon(ctx)
            await asyncio.wait_for(daemon.run(until_done=True), max_wait)
            await print_status(ctx)
            saved = await save_written_images(ctx, output / "images")
            failures = await ctx.repo.recent_failures()

    console.print(f"{saved} written-back images saved in {output / 'images'}")
    return 1 if failures else 0
