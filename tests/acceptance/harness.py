"""Run pergai-sync end to end against the simulators: config, daemon, listings."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from connectors.base import CatalogueItem
from simulators.catalogue import SeedProduct
from simulators.pergai import STATE_KEY as PERGAI_STATE
from simulators.pergai import PergaiSimSettings, PergaiState, new_api_key
from simulators.pergai import create_app as pergai_app
from simulators.server import serve
from simulators.shopify import STATE_KEY as SHOPIFY_STATE
from simulators.shopify import ShopifySettings, ShopifyState
from simulators.shopify import create_app as shopify_app
from simulators.woocommerce import STATE_KEY as WOOCOMMERCE_STATE
from simulators.woocommerce import WooSettings, WooState
from simulators.woocommerce import create_app as woocommerce_app
from storage.migrate import upgrade
from sync.config import load_config
from sync.config.settings import Settings
from sync.context import Context
from sync.daemon import Daemon
from sync.demo_catalogue import demo_catalogue
from sync.progress import open_work_count
from sync.runtime import open_context, platform_of

SHOP = "pergai-test.myshopify.com"
WEBHOOK_SECRET = "acceptance-webhook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Simulators:
    pergai_url: str
    shopify_url: str
    woocommerce_url: str
    pergai_key: str
    shopify: ShopifySettings
    woocommerce: WooSettings
    apps: dict[str, web.Application] = field(default_factory=dict)

    @property
    def pergai_state(self) -> PergaiState:
        return self.apps["pergai"][PERGAI_STATE]

    @property
    def shopify_state(self) -> ShopifyState:
        return self.apps["shopify"][SHOPIFY_STATE]

    @property
    def woocommerce_state(self) -> WooState:
        return self.apps["woocommerce"][WOOCOMMERCE_STATE]

    def env(self) -> dict[str, str]:
        """The environment variables the config written by ``config_text`` references."""
        return {
            "T_PERGAI_KEY": self.pergai_key,
            "T_SHOPIFY_TOKEN": self.shopify.access_token,
            "T_SHOPIFY_SECRET": self.shopify.webhook_secret,
            "T_WC_KEY": self.woocommerce.consumer_key,
            "T_WC_SECRET": self.woocommerce.consumer_secret,
            "T_WC_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }


@asynccontextmanager
async def start_simulators(
    products: list[SeedProduct] | None = None, *, generation_duration: float = 0.5
) -> AsyncIterator[Simulators]:
    """Serve the three simulators on free loopback ports, each store loaded with ``products``."""
    products = demo_catalogue() if products is None else products
    key = new_api_key()
    shopify = ShopifySettings(shop=SHOP.split(".")[0])
    woocommerce = WooSettings()
    apps = {
        "pergai": pergai_app(
            PergaiSimSettings(api_key=key, generation_duration=generation_duration)
        ),
        "shopify": shopify_app(shopify),
        "woocommerce": woocommerce_app(woocommerce),
    }
    apps["shopify"][SHOPIFY_STATE].load_seed(products)
    apps["woocommerce"][WOOCOMMERCE_STATE].load_seed(products)

    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serve(app)) for name, app in apps.items()}
        yield Simulators(
            urls["pergai"], urls["shopify"], urls["woocommerce"], key, shopify, woocommerce, apps
        )


def config_text(
    sims: Simulators,
    database_url: str,
    port: int,
    *,
    write_back: str = "add",
    daily_budget: int | None = None,
    poll_interval: str = "1h",
    platforms: tuple[str, ...] = ("shopify", "woocommerce"),
    images: str = "featured",
) -> str:
    """A config with both stores on the simulators, two outputs each, fast job checks."""
    budget = f"daily_budget = {daily_budget}\n" if daily_budget is not None else ""
    common = f"""poll_interval = "{poll_interval}"
write_back = "{write_back}"
images = "{images}"
alt_text = "{{title}} – {{output}}"
{budget}
[[stores.outputs]]
scene = "studio"
prompt = "{{title}} on a clean background"

[[stores.outputs]]
tool = "remove-bg"
"""
    parts = [
        f"""[pergai]
api_key = "${{T_PERGAI_KEY}}"
base_url = "{sims.pergai_url}/api/external/v1"

[database]
url = "{database_url}"

[server]
port = {port}
public_url = "http://127.0.0.1:{port}"

[daemon]
drain_interval = "1s"
job_check_interval = "1s"
lease = "30s"
shutdown_grace = "10s"
"""
    ]
    if "shopify" in platforms:
        parts.append(
            f"""[[stores]]
name = "shop"
platform = "shopify"
address = "{SHOP}"
base_url = "{sims.shopify_url}"
access_token = "${{T_SHOPIFY_TOKEN}}"
webhook_secret = "${{T_SHOPIFY_SECRET}}"
{common}"""
        )
    if "woocommerce" in platforms:
        parts.append(
            f"""[[stores]]
name = "woo"
platform = "woocommerce"
address = "{sims.woocommerce_url}"
consumer_key = "${{T_WC_KEY}}"
consumer_secret = "${{T_WC_SECRET}}"
webhook_secret = "${{T_WC_WEBHOOK_SECRET}}"
{common}"""
        )
    return "\n".join(parts)


def write_config(path: Path, text: str, sims: Simulators) -> Settings:
    path.write_text(text, encoding="utf-8")
    return load_config(path, env=sims.env())


async def register_webhooks(ctx: Context) -> None:
    for name, store in ctx.stores.items():
        url = ctx.settings.server.webhook_url(platform_of(store.config), name)
        assert url is not None
        await store.connector.register_webhooks(url)


async def run_until_settled(settings: Settings, max_wait: float = 60.0) -> None:
    """Run an in-process daemon with webhooks live until no work is open."""
    await upgrade(settings.database.url)
    async with open_context(settings) as ctx:
        await register_webhooks(ctx)
        daemon = Daemon(ctx)
        await asyncio.wait_for(daemon.run(until_done=True), max_wait)


async def listings(settings: Settings) -> dict[str, list[CatalogueItem]]:
    """Read every product of every store as the store now lists it."""
    result: dict[str, list[CatalogueItem]] = {}
    await upgrade(settings.database.url)
    async with open_context(settings) as ctx:
        for name, store in ctx.stores.items():
            items = [item async for item in store.connector.catalogue_changes(None, ctx.clock())]
            result[name] = items
    return result


async def stage_counts(settings: Settings) -> Mapping[str, Mapping[str, int]]:
    async with open_context(settings) as ctx:
        counts = await ctx.repo.stage_counts()
        assert await open_work_count(ctx.repo) >= 0
    return {
        store: {stage.value: n for stage, n in stages.items()} for store, stages in counts.items()
    }


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


async def run_cli(
    *args: str, env: Mapping[str, str] | None = None, max_wait: float = 180
) -> CliResult:
    """Run `python -m sync ARGS` without blocking the loop that serves the simulators."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sync",
        *args,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), max_wait)
    assert process.returncode is not None
    return CliResult(process.returncode, stdout.decode(), stderr.decode())
