"""A hostile outside world for pergai-sync: faulty simulators, impossible products, tallies.

``start_hostile`` serves the three simulators with fault switches set before
the first request, because the Shopify cost bucket is sized when its app is
built. ``arm``/``disarm`` switch the HTTP faults on and off. ``Tally`` counts
the retries each fault caused, from the simulators' counters, the engine's
Prometheus metrics, the connectors' retry log records and the event log.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from connectors.base import CatalogueItem
from simulators.catalogue import SeedImage, SeedProduct
from simulators.faults import FAULTS_KEY, Faults
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
from storage.models import Event
from sync.config.settings import Settings
from sync.context import Context
from sync.daemon import Daemon
from sync.metrics import Metrics
from sync.runtime import open_context
from tests.acceptance.harness import SHOP, Simulators, register_webhooks

# Image downloads stay clean: the faults under test are those of the APIs.
EXEMPT = {
    "pergai": ("/files/",),
    "shopify": ("/cdn/", "/staged-uploads/", "/bulk/"),
    "woocommerce": ("/wp-content/uploads/",),
}
CATEGORIES = ["Hoodies", "Kupalar", "Sneakers", "Lambalar", "Çantalar", "Şapkalar"]


@dataclass(frozen=True)
class FaultPlan:
    """Fault rates per request (0.0 to 1.0) and times in seconds, for every simulator."""

    server_error_rate: float = 0.10
    rate_limit_rate: float = 0.05
    retry_after: float = 0.2
    drop_after_rate: float = 0.05
    latency: float = 0.005
    generation_failure_rate: float = 0.10
    # Cost bucket of the Shopify shop, in points. The connector's catalogue page requests
    # 968 points and one listing for 706 (refunded down to the actual cost after),
    # so a bucket of 1,000 pays for one read at a time and concurrent writes are THROTTLED.
    shopify_bucket: float = 1000.0
    shopify_restore_rate: float = 200.0
    # The bucket is spent to zero by another client of the app before this share of queries.
    shopify_other_client_rate: float = 0.03
    # The shop fails the next N media whatever their source. The connector tries a
    # failed write once more from the uploaded bytes, which is the next media, and
    # a second failure fails the output for good; so only one write is failed.
    shopify_media_failures: int = 1
    seed: int = 7


@dataclass(frozen=True)
class Catalogue:
    """Seed products and the titles of those that can never succeed."""

    products: list[SeedProduct]
    missing_image: frozenset[str]
    not_an_image: frozenset[str]

    @property
    def impossible(self) -> frozenset[str]:
        return self.missing_image | self.not_an_image


def catalogue(count: int, *, missing_image: int = 2, not_an_image: int = 2) -> Catalogue:
    """Build ``count`` ordinary products plus a few whose image PergAI can never use.

    Every third ordinary product has a second original image, so a lost
    original would show. The impossible ones get their image removed from
    the store after loading (``break_images``) or carry bytes that are no image.
    """
    products = []
    for index in range(count):
        category = CATEGORIES[index % len(CATEGORIES)]
        images = [SeedImage(f"fault-{index}-front.png", f"Ürün {index}")]
        if index % 3 == 0:
            images.append(SeedImage(f"fault-{index}-back.png", "arka"))
        products.append(
            SeedProduct(
                title=f"{category} №{index} ✨",
                sku=f"F-{index}",
                price="19.90",
                product_type=category,
                categories=[["Katalog", category]],
                tags=["fault-test"],
                images=images,
            )
        )

    missing = [f"Kayıp görsel {n} 🚫" for n in range(missing_image)]
    garbage = [f"Bozuk görsel {n} 🧨" for n in range(not_an_image)]
    for title in missing:
        products.append(SeedProduct(title=title, images=[SeedImage(f"{title[:5]}-gone.png")]))
    for title in garbage:
        image = SeedImage("not-an-image.png", data=b"this is a text file, not a PNG\n" * 8)
        products.append(SeedProduct(title=title, images=[image]))
    return Catalogue(products, frozenset(missing), frozenset(garbage))


@asynccontextmanager
async def start_hostile(
    seeds: Catalogue, plan: FaultPlan, *, generation_duration: float = 0.3
) -> AsyncIterator[Simulators]:
    """Serve the three simulators loaded with ``seeds``; faults stay off until ``arm``."""
    key = new_api_key()
    shopify = ShopifySettings(
        shop=SHOP.split(".")[0],
        bucket_max=plan.shopify_bucket,
        restore_rate=plan.shopify_restore_rate,
        seed=plan.seed,
    )
    woocommerce = WooSettings(seed=plan.seed)
    pergai = PergaiSimSettings(api_key=key, generation_duration=generation_duration, seed=plan.seed)
    apps = {
        "pergai": pergai_app(pergai),
        "shopify": shopify_app(shopify),
        "woocommerce": woocommerce_app(woocommerce),
    }
    apps["shopify"][SHOPIFY_STATE].load_seed(seeds.products)
    apps["woocommerce"][WOOCOMMERCE_STATE].load_seed(seeds.products)

    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serve(app)) for name, app in apps.items()}
        sims = Simulators(
            urls["pergai"], urls["shopify"], urls["woocommerce"], key, shopify, woocommerce, apps
        )
        break_images(sims, seeds.missing_image)
        yield sims


def break_images(sims: Simulators, titles: frozenset[str]) -> None:
    """Make the store serve 404 for every image of the products titled ``titles``."""
    shop = sims.shopify_state.catalogue
    for sim_product in shop.products.values():
        if sim_product.title in titles:
            for media in shop.product_media(sim_product):
                media.data = None
                media.placeholder = None

    woo = sims.woocommerce_state
    for woo_product in woo.products.values():
        if woo_product.name in titles:
            for image_id in woo_product.image_ids:
                woo.media_by_path.pop(woo.media_path(woo.media[image_id]), None)


def faults_of(sims: Simulators) -> dict[str, Faults]:
    faults = {name: app[FAULTS_KEY] for name, app in sims.apps.items()}
    assert all(isinstance(value, Faults) for value in faults.values())
    return faults  # type: ignore[return-value]


def arm(sims: Simulators, plan: FaultPlan) -> None:
    """Switch every fault of ``plan`` on, in every simulator."""
    for number, (name, faults) in enumerate(faults_of(sims).items()):
        half = plan.server_error_rate / 2
        faults.error_rates = {500: half, 503: half, 429: plan.rate_limit_rate}
        faults.retry_after = plan.retry_after
        faults.drop_after_rate = plan.drop_after_rate
        faults.latency = plan.latency
        faults.exempt_prefixes = EXEMPT[name]
        faults.random = random.Random(plan.seed + number)

    sims.pergai_state.settings.failure_rate = plan.generation_failure_rate
    sims.shopify.media_failures = plan.shopify_media_failures
    sims.shopify.other_client_rate = plan.shopify_other_client_rate


def disarm(sims: Simulators) -> None:
    """Switch the HTTP faults off so the final listings can be read; counters stay."""
    for faults in faults_of(sims).values():
        faults.error_rates = {}
        faults.drop_after_rate = 0.0
        faults.latency = 0.0
    sims.pergai_state.settings.failure_rate = 0.0
    sims.shopify.other_client_rate = 0.0


class RetryRecords(logging.Handler):
    """Count the connectors' retry log records by error kind."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kinds: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "action", None) == "retry":
            self.kinds[str(getattr(record, "error_kind", "unknown"))] += 1


@contextmanager
def counting_retries() -> Iterator[RetryRecords]:
    """Count every retry ``connectors.retry.with_retry`` logs while the block runs."""
    handler = RetryRecords()
    logger = logging.getLogger("connectors.retry")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def run_daemon(settings: Settings, metrics: Metrics, max_wait: float) -> bool:
    """Run an in-process daemon with webhooks live until no work is open.

    Returns False when work is still open after ``max_wait`` seconds, so the
    caller can report which products are stuck before failing.
    """
    await upgrade(settings.database.url)
    async with open_context(settings, metrics=metrics) as ctx:
        await register_webhooks(ctx)
        daemon = Daemon(ctx)
        try:
            await asyncio.wait_for(daemon.run(until_done=True), max_wait)
        except TimeoutError:
            return False
    return True


async def event_actions(ctx: Context) -> Counter[str]:
    """Count the event log rows by action."""
    async with ctx.repo.db.read() as session:
        rows = await session.execute(
            select(col(Event.action), func.count()).group_by(col(Event.action))
        )
        return Counter({str(action): int(count) for action, count in rows})


def metric_samples(metrics: Metrics, name: str) -> dict[tuple[str, ...], float]:
    """Return a counter's samples as {label values: value}, without the ``_created`` series."""
    samples: dict[tuple[str, ...], float] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_total" and sample.value:
                samples[tuple(sample.labels.values())] = sample.value
    return samples


@dataclass
class Tally:
    """The retries and faults of one run, for printing."""

    injected: dict[str, dict[str, int]] = field(default_factory=dict)
    connector_retries: Counter[str] = field(default_factory=Counter)
    api_errors: dict[tuple[str, ...], float] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    failed_generations: int = 0
    shopify_throttled: int = 0
    shopify_media_failed: int = 0

    def lines(self) -> list[str]:
        out = [f"faults injected per simulator: {self.injected}"]
        out.append(f"connector retries by error kind: {dict(self.connector_retries)}")
        out.append(f"step errors reaching the engine (service, kind): {self.api_errors}")
        steps = {k: v for k, v in self.events.items() if k in ("retry", "render_retry")}
        out.append(f"engine retries from the event log: {steps}")
        out.append(f"PergAI generations failed and started again: {self.failed_generations}")
        out.append(f"Shopify THROTTLED answers: {self.shopify_throttled}")
        out.append(f"Shopify media FAILED: {self.shopify_media_failed}")
        return out


def ours(item: CatalogueItem) -> list[str]:
    """Generation ids of the images pergai-sync wrote on a listing, in listing order."""
    return [image.generation_id for image in item.images if image.generation_id]


def originals(item: CatalogueItem) -> set[str]:
    """Ids of the images pergai-sync did not write."""
    return {image.id for image in item.images if not image.ours}


def slow_enabled() -> bool:
    return os.environ.get("PERGAI_SYNC_SLOW") == "1"


# The long forms take minutes; they run only when asked for.
skip_unless_slow = pytest.mark.skipif(
    not slow_enabled(), reason="long form; set PERGAI_SYNC_SLOW=1 to run it"
)
