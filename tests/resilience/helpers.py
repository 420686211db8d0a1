"""Run `pergai-sync run` as real subprocesses, kill them on cue, and audit what they left.

The simulators stay in the test process, so their records survive every
kill. ``KillSwitch`` hooks into them to send SIGKILL at an exact moment: right
after PergAI stored a product or a generation (the remote create happened,
its database commit did not), or right after a store took an image write.
``audit`` then compares the store listings, the PergAI records and the
mapping database.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from connectors.base import marker_generation_id
from simulators.catalogue import SeedImage, SeedProduct
from storage.database import Database
from storage.models import Event, ProductLink, Render, RenderStatus, Stage
from storage.repository import Repository
from sync.config.settings import Settings
from sync.progress import open_work_count
from tests.acceptance.harness import Simulators, config_text, listings

CLI = [sys.executable, "-m", "sync", "run", "--config"]

# Kill moments ``KillSwitch`` can wait for; "random" fires after a random delay.
PRODUCT_CREATED = "product_created"
GENERATION_CREATED = "generation_created"
SHOPIFY_IMAGE_WRITTEN = "shopify_image_written"
WOOCOMMERCE_IMAGE_WRITTEN = "woocommerce_image_written"
RANDOM = "random"
KILL_MOMENTS = (
    PRODUCT_CREATED,
    GENERATION_CREATED,
    SHOPIFY_IMAGE_WRITTEN,
    WOOCOMMERCE_IMAGE_WRITTEN,
    RANDOM,
)
OUTPUTS_PER_PRODUCT = 2


def seed_catalogue(count: int, prefix: str = "Crash") -> list[SeedProduct]:
    """Return ``count`` products with unique titles and one image each; some titles are Unicode."""
    products = []
    for number in range(count):
        title = f"{prefix} product {number}"
        if number % 5 == 1:
            title = f"{prefix} çanta ğüşiöı 👜 {number}"
        elif number % 5 == 3:
            title = f"{prefix} حقيبة جلدية {number}"
        products.append(
            SeedProduct(
                title=title,
                sku=f"{prefix.lower()}-{number}",
                price="19.90",
                categories=[["Giyim", "Tişört"]],
                tags=["resilience"],
                images=[SeedImage(f"{prefix.lower()}-{number}.jpg")],
            )
        )
    return products


def daemon_config(
    sims: Simulators,
    database_url: str,
    port: int,
    *,
    lease: str = "3s",
    concurrency: int = 8,
    poll_interval: str = "2s",
) -> str:
    """Return a config for both simulated stores with a short lease and more concurrency."""
    text = config_text(sims, database_url, port, poll_interval=poll_interval)
    default_lease = 'lease = "30s"\n'
    assert default_lease in text, "the acceptance config no longer sets the lease this replaces"
    text = text.replace(
        default_lease, f'lease = "{lease}"\nconcurrency_per_store = {concurrency}\n'
    )
    return text.replace("[database]", f"max_concurrency = {concurrency}\n\n[database]", 1)


@dataclass
class DaemonProcess:
    """One `pergai-sync run` subprocess; its log goes to ``log_path``."""

    process: asyncio.subprocess.Process
    log_path: Path
    started_at: float

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def owner_prefix(self) -> str:
        """The start of the lease owner id the daemon uses (host and pid, then a suffix)."""
        return f"{socket.gethostname()}-{self.pid}-"

    def kill(self) -> None:
        if self.process.returncode is None:
            os.kill(self.pid, signal.SIGKILL)

    async def stop(self, max_wait: float = 60.0) -> int:
        """Send SIGTERM once the daemon handles it, and wait for it to release leases and exit."""
        await self.wait_started(max_wait)
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), max_wait)

    async def wait_started(self, max_wait: float) -> None:
        """Wait for the "daemon ... started" line: before it, SIGTERM still kills the process."""
        deadline = time.monotonic() + max_wait
        marker = f"daemon {self.owner_prefix}"
        while self.process.returncode is None and time.monotonic() < deadline:
            if marker in self.log_path.read_text(encoding="utf-8", errors="replace"):
                return
            await asyncio.sleep(0.1)

    def log_tail(self, size: int = 3000) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]


async def start_daemon(config: Path, sims: Simulators, log_path: Path) -> DaemonProcess:
    """Start `python -m sync run --config CONFIG`, appending its output to ``log_path``."""
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *CLI,
            str(config),
            env={**os.environ, **sims.env()},
            stdout=log,
            stderr=log,
        )
    return DaemonProcess(process, log_path, time.monotonic())


@dataclass
class Kill:
    """One SIGKILL: when it fired and the PergAI record created just before it, if any."""

    moment: str
    record_kind: str | None = None
    record_id: str | None = None


class KillSwitch:
    """Send SIGKILL to a daemon at a chosen moment, from inside the simulators' handlers.

    The hooks run in the simulator's request handler after the record is
    stored and before the response is sent, so the daemon never learns
    the outcome of that request.
    """

    def __init__(self, sims: Simulators) -> None:
        self.armed: str | None = None
        self.target: DaemonProcess | None = None
        self.fired = asyncio.Event()
        self.kills: list[Kill] = []
        sims.pergai_state.on_record = self.on_pergai_record

        catalogue = sims.shopify_state.catalogue
        webhooks = catalogue.on_change

        def shopify_changed(product: object, topic: str) -> None:
            if webhooks is not None:
                webhooks(product, topic)  # type: ignore[arg-type]
            if topic == "products/update":
                self.hit(SHOPIFY_IMAGE_WRITTEN)

        catalogue.on_change = shopify_changed
        sims.woocommerce_state.listeners.append(self.on_woocommerce_change)

    def on_pergai_record(self, kind: str, record_id: str) -> None:
        self.hit(f"{kind}_created", kind, record_id)

    def on_woocommerce_change(self, event: str, resource_id: int, variation: bool) -> None:
        if event == "updated":
            self.hit(WOOCOMMERCE_IMAGE_WRITTEN)

    def hit(self, moment: str, kind: str | None = None, record_id: str | None = None) -> None:
        if self.armed != moment or self.target is None:
            return
        self.target.kill()
        self.kills.append(Kill(moment, kind, record_id))
        self.armed = None
        self.fired.set()

    async def kill_at(
        self, daemon: DaemonProcess, moment: str, *, max_wait: float, rng: random.Random
    ) -> Kill:
        """Kill ``daemon`` at ``moment``, or at a random time if the moment does not come.

        A random kill waits up to ``max_wait`` seconds. Returns the kill once
        the process has exited.
        """
        self.fired.clear()
        self.target = daemon
        self.armed = None if moment == RANDOM else moment
        delay = rng.uniform(0.3, max_wait) if moment == RANDOM else max_wait
        try:
            await asyncio.wait_for(self.fired.wait(), delay)
        except TimeoutError:
            self.armed = None
            daemon.kill()
            self.kills.append(Kill(RANDOM if moment == RANDOM else f"{moment}->random"))
        self.target = None
        await daemon.process.wait()
        return self.kills[-1]


# Database reads


async def read_links_and_renders(database: Database) -> tuple[list[ProductLink], list[Render]]:
    async with database.read() as session:
        links = list(await session.scalars(select(ProductLink)))
        renders = list(await session.scalars(select(Render)))
    return links, renders


async def open_work(database: Database) -> tuple[int, int]:
    """Return (product links in the database, links or deliveries still open)."""
    async with database.read() as session:
        links = await session.scalar(select(func.count()).select_from(ProductLink))
    return int(links or 0), await open_work_count(Repository(database))


async def wait_settled(database: Database, expected_links: int, max_wait: float) -> bool:
    """Wait until every expected link exists and none is open; False when ``max_wait`` ran out."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        links, open_count = await open_work(database)
        if links >= expected_links and open_count == 0:
            return True
        await asyncio.sleep(0.5)
    return False


async def events_by_owner(database: Database) -> dict[str, Counter[str]]:
    """Return, per daemon owner id, how many event-log lines of each action it wrote."""
    async with database.read() as session:
        rows = await session.execute(
            select(col(Event.owner), col(Event.action), func.count())
            .where(col(Event.owner).is_not(None))
            .group_by(col(Event.owner), col(Event.action))
        )
        result: dict[str, Counter[str]] = {}
        for owner, action, count in rows:
            result.setdefault(str(owner), Counter())[str(action)] = int(count)
    return result


# Listings and the audit


async def original_images(settings: Settings) -> dict[tuple[str, str], set[str]]:
    """Return the image ids of every product's listing, keyed by (store, product id)."""
    result = {}
    for store, items in (await listings(settings)).items():
        for item in items:
            result[(store, item.product_id)] = {image.id for image in item.images}
    return result


@dataclass
class Audit:
    """What the stores, PergAI and the database hold once the daemons have finished."""

    links: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    render_statuses: Counter[str] = field(default_factory=Counter)
    written_images: int = 0
    duplicate_images: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)
    lost_originals: list[str] = field(default_factory=list)
    orphan_products: list[str] = field(default_factory=list)
    orphan_generations: list[str] = field(default_factory=list)
    shared_products: list[str] = field(default_factory=list)
    unattached_store_files: int = 0
    pergai_products: int = 0
    pergai_generations: int = 0

    def lines(self) -> list[str]:
        return [
            f"product links: {self.links}, stages: {dict(self.stages)}",
            f"renders: {dict(self.render_statuses)}",
            f"images written on listings: {self.written_images}",
            f"duplicate images: {len(self.duplicate_images)}",
            f"missing images: {len(self.missing_images)}",
            f"lost original images: {len(self.lost_originals)}",
            f"PergAI products: {self.pergai_products}, "
            f"orphans: {len(self.orphan_products)}, shared by two links: "
            f"{len(self.shared_products)}",
            f"PergAI generations: {self.pergai_generations}, "
            f"orphans: {len(self.orphan_generations)}",
            f"Shopify files with our marker on no product: {self.unattached_store_files}",
        ]


async def audit(
    settings: Settings,
    sims: Simulators,
    database: Database,
    originals: dict[tuple[str, str], set[str]],
) -> Audit:
    """Compare the listings, the PergAI simulator and the database."""
    result = Audit()
    links, renders = await read_links_and_renders(database)
    result.links = len(links)
    result.stages = Counter(link.stage.value for link in links)
    result.render_statuses = Counter(render.status.value for render in renders)

    await audit_listings(result, settings, originals, renders)
    audit_pergai(result, sims, links, renders)

    files = sims.shopify_state.catalogue.media.values()
    result.unattached_store_files = sum(
        1 for media in files if marker_generation_id(media.filename) and not media.product_ids
    )
    return result


async def audit_listings(
    result: Audit,
    settings: Settings,
    originals: dict[tuple[str, str], set[str]],
    renders: list[Render],
) -> None:
    for store, items in (await listings(settings)).items():
        for item in items:
            label = f"{store}/{item.product_id} {item.title!r}"
            markers = Counter(image.generation_id for image in item.images if image.ours)
            result.written_images += sum(markers.values())
            for marker, count in markers.items():
                if count > 1:
                    result.duplicate_images.append(f"{label}: {marker} x{count}")
            extra = len(markers) - OUTPUTS_PER_PRODUCT
            if extra > 0:
                result.duplicate_images.append(f"{label}: {extra} images beyond the outputs")
            if extra < 0:
                result.missing_images.append(f"{label}: {-extra} outputs not on the listing")

            ids = {image.id for image in item.images}
            for lost in originals.get((store, item.product_id), set()) - ids:
                result.lost_originals.append(f"{label}: original image {lost}")

    written = [r for r in renders if r.status is RenderStatus.WRITTEN]
    if len(written) != len(renders):
        result.missing_images.append(f"{len(renders) - len(written)} renders not written")


def audit_pergai(
    result: Audit, sims: Simulators, links: list[ProductLink], renders: list[Render]
) -> None:
    state = sims.pergai_state
    result.pergai_products = len(state.products)
    result.pergai_generations = len(state.generations)

    recorded_products = Counter(link.pergai_product_id for link in links if link.pergai_product_id)
    result.shared_products = [pid for pid, count in recorded_products.items() if count > 1]
    result.orphan_products = [pid for pid in state.products if pid not in recorded_products]

    recorded_generations = {render.generation_id for render in renders if render.generation_id}
    for generation in state.generations.values():
        if generation.id not in recorded_generations:
            kind = f"tool {generation.tool}" if generation.tool else f"scene {generation.scene}"
            result.orphan_generations.append(f"{generation.id} ({kind})")


def all_done(result: Audit) -> bool:
    return set(result.stages) == {Stage.DONE.value}


# Scale-out: rows a daemon holds, and whether they are finished

FINISHED_STAGES = {Stage.DONE, Stage.FAILED, Stage.SKIPPED}
FINISHED_STATUSES = {RenderStatus.WRITTEN, RenderStatus.FAILED}


@dataclass
class HeldRows:
    """Product links and renders whose lease a daemon held, by id."""

    links: set[int] = field(default_factory=set)
    renders: set[int] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.links) + len(self.renders)


async def rows_held_by(database: Database, owner_prefix: str) -> HeldRows:
    """Return the rows whose lease owner starts with ``owner_prefix``, expired or not."""
    async with database.read() as session:
        links = await session.scalars(
            select(col(ProductLink.id)).where(col(ProductLink.lease_owner).startswith(owner_prefix))
        )
        renders = await session.scalars(
            select(col(Render.id)).where(col(Render.lease_owner).startswith(owner_prefix))
        )
        return HeldRows({i for i in links if i is not None}, {i for i in renders if i is not None})


async def unfinished(database: Database, rows: HeldRows) -> HeldRows:
    """Return those of ``rows`` not yet finished: links not done, renders not written."""
    links, renders = await read_links_and_renders(database)
    return HeldRows(
        {link.id for link in links if link.id in rows.links and link.stage not in FINISHED_STAGES},
        {
            render.id
            for render in renders
            if render.id in rows.renders and render.status not in FINISHED_STATUSES
        },
    )
