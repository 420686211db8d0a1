"""Benchmark pergai-sync end to end: products in a WooCommerce store to images written back.

    python bench/bench_end_to_end.py --products 1000 \\
        --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

The simulators run in this process on 127.0.0.1 with a fixed latency per
API call (store 100 ms, PergAI 50 ms; flags change them) and a generation
time (2 s). The daemon runs as a subprocess, `python -m sync run`, so its
memory and CPU time are its own. Sections, each against a baseline measured
in the same run:

1. Push: N products with two outputs each (a studio scene and a background
   removal) until 2N images are written, timed from the daemon's spawn.
   Compared with the sequential script in ``bench/baseline_merchant.py``,
   which runs on ``--baseline-products`` products and is extrapolated per
   product to N, and with the critical-path bound below. Also reported: PergAI
   and store API calls per written image, from the simulators' counters, and
   the daemon's peak resident memory.
2. Webhook ingest: signed deliveries per second the daemon's server
   acknowledges, against a bare aiohttp handler that answers 200, with p50
   and p99 acknowledgement latency, on SQLite and (with ``--postgres`` or
   PERGAI_SYNC_TEST_DATABASE_URL) on a scratch PostgreSQL database.
3. Idle: the daemon's CPU use with ``--idle-stores`` stores configured, each
   polled once an hour, over ``--idle-seconds`` after start-up, as a fraction
   of one core.

The critical-path bound. With N products, k = 2 outputs, store latency Ls,
PergAI latency Lp and generation time G, the work that cannot be avoided is:
per product one PergAI product create and k job starts, (1 + k) Lp, which
share c_p = `[pergai] max_concurrency` requests in flight; k image writes to
the store, k Ls, which share the store's c_s = `[daemon] concurrency_per_store`
writes at once; and ceil(N / 100) catalogue pages read one after another.
One product cannot finish faster than its own chain: read a page, create,
start, generate, write. So no schedule beats

    bound = max(N (1 + k) Lp / c_p,  N k Ls / c_s,  ceil(N / 100) Ls,  Ls + 2 Lp + G + Ls)

The bound leaves out database time, the job-check interval, image downloads
and the read a WooCommerce write needs before its update, so the engine can
come close to it but never under it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.baseline_merchant import BaselineTarget, MerchantScript  # noqa: E402
from bench.e2e_daemon import (  # noqa: E402
    WEBHOOK_SECRET,
    DaemonTuning,
    ServerProcess,
    bare_server_command,
    config_text,
    daemon_command,
    daemon_env,
    free_port,
)
from bench.e2e_simulators import BenchSimulators, Latencies, serve_simulators  # noqa: E402
from bench.e2e_webhooks import IngestResult, send_load  # noqa: E402
from storage.database import Database  # noqa: E402

OUTPUTS = 2
PAGE_SIZE = 100
MIB = 1024 * 1024


@dataclass(frozen=True)
class Options:
    """Every knob of one benchmark run; the defaults are the recorded run's."""

    products: int = 1000
    baseline_products: int = 10
    baseline_poll: float = 3.0
    latencies: Latencies = Latencies()
    tuning: DaemonTuning = DaemonTuning()
    webhooks: int = 3000
    webhook_concurrency: int = 32
    webhook_seconds: float = 20.0
    postgres: str | None = None
    idle_stores: int = 200
    idle_seconds: float = 30.0
    push_timeout: float = 3600.0


@dataclass
class PushResult:
    products: int
    images: int
    seconds: float
    pergai_calls: Counter[str]
    store_calls: Counter[str]
    peak_rss: int


@dataclass
class BaselineResult:
    products: int
    images: int
    seconds: float

    @property
    def per_product(self) -> float:
        return self.seconds / self.products


@dataclass
class IdleResult:
    stores: int
    seconds: float
    cpu_seconds: float
    peak_rss: int


@dataclass
class Report:
    options: Options
    push: PushResult | None = None
    baseline: BaselineResult | None = None
    bound: float = 0.0
    ingest: dict[str, tuple[IngestResult, IngestResult]] = field(default_factory=dict)
    idle: IdleResult | None = None


def critical_path_bound(products: int, latencies: Latencies, tuning: DaemonTuning) -> float:
    """Return the lower bound on the push's wall time; the module docstring derives it."""
    store, pergai = latencies.store, latencies.pergai
    return max(
        products * (1 + OUTPUTS) * pergai / tuning.pergai_concurrency,
        products * OUTPUTS * store / tuning.store_concurrency,
        math.ceil(products / PAGE_SIZE) * store,
        store + 2 * pergai + latencies.generation + store,
    )


# Push


async def wait_for_images(
    sims: BenchSimulators, daemon: ServerProcess, expected: int, max_wait: float
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait
    while sims.written_images() < expected:
        if loop.time() > deadline:
            raise RuntimeError(
                f"only {sims.written_images()} of {expected} images written after {max_wait:g} s; "
                f"daemon log tail:\n{daemon.log_tail()}"
            )
        await asyncio.sleep(0.1)


async def bench_push(options: Options, workdir: Path) -> PushResult:
    """Run the daemon over ``options.products`` products until every image is written."""
    expected = options.products * OUTPUTS
    async with serve_simulators(options.products, options.latencies) as sims:
        database = f"sqlite+aiosqlite:///{workdir / 'push.sqlite'}"
        port = free_port()
        config = workdir / "push.toml"
        config.write_text(config_text(sims, database, port, options.tuning), encoding="utf-8")
        log = workdir / "push.log"

        started = time.perf_counter()
        async with ServerProcess(daemon_command(config), daemon_env(sims), port, log) as daemon:
            await wait_for_images(sims, daemon, expected, options.push_timeout)
            seconds = time.perf_counter() - started
            peak = daemon.peak_rss_bytes()

        return PushResult(
            options.products,
            sims.written_images(),
            seconds,
            sims.pergai_calls(),
            Counter(sims.store_calls),
            peak,
        )


async def bench_baseline(options: Options) -> BaselineResult:
    """Run the merchant's sequential script over ``options.baseline_products`` products."""
    count = options.baseline_products
    async with serve_simulators(count, options.latencies) as sims:
        target = BaselineTarget(
            sims.woocommerce_url,
            sims.woocommerce.consumer_key,
            sims.woocommerce.consumer_secret,
            sims.pergai_api,
            sims.pergai_key,
        )
        script = MerchantScript(target, poll_every=options.baseline_poll)
        product_ids = sorted(sims.store_state.products)[:count]
        started = time.perf_counter()
        try:
            # The script blocks, and the simulators run on this loop, so it gets a thread.
            images = await asyncio.to_thread(script.run, product_ids)
        finally:
            script.close()
        seconds = time.perf_counter() - started
        assert sims.written_images() == images == count * OUTPUTS, (sims.written_images(), images)
        return BaselineResult(count, images, seconds)


# Webhook ingest


@asynccontextmanager
async def scratch_postgres(url: str) -> AsyncIterator[str]:
    """Create a database beside the one ``url`` names, yield its URL, and drop it afterwards."""
    admin = Database(url)
    name = f"pergai_bench_{uuid.uuid4().hex[:8]}"
    scratch = make_url(admin.url.render_as_string(False)).set(database=name)
    autocommit = admin.engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with autocommit.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield scratch.render_as_string(False)
        finally:
            async with autocommit.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.aclose()


async def bench_ingest(
    options: Options, database: str, workdir: Path, label: str
) -> tuple[IngestResult, IngestResult]:
    """Load the bare handler, then the daemon; return (bare, daemon) results."""

    async def load(port: int) -> IngestResult:
        return await send_load(
            f"http://127.0.0.1:{port}/webhooks/woocommerce/store-0",
            WEBHOOK_SECRET,
            count=options.webhooks,
            concurrency=options.webhook_concurrency,
            max_seconds=options.webhook_seconds,
        )

    async with serve_simulators(0, Latencies(0.0, 0.0, options.latencies.generation)) as sims:
        port = free_port()
        bare_log = workdir / f"bare-{label}.log"
        async with ServerProcess(bare_server_command(port), {}, port, bare_log):
            bare = await load(port)

        port = free_port()
        config = workdir / f"ingest-{label}.toml"
        config.write_text(config_text(sims, database, port, options.tuning), encoding="utf-8")
        log = workdir / f"ingest-{label}.log"
        async with ServerProcess(daemon_command(config), daemon_env(sims), port, log):
            daemon = await load(port)
    return bare, daemon


# Idle


async def wait_for_start_up_polls(sims: BenchSimulators, stores: int, max_wait: float) -> None:
    """Wait until every store's first catalogue read is done and the store is quiet for 2 s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_wait
    last, quiet_since = -1, loop.time()
    while loop.time() < deadline:
        calls = sims.store_calls.total()
        if calls != last:
            last, quiet_since = calls, loop.time()
        elif calls >= stores and loop.time() - quiet_since >= 2.0:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the {stores} stores' start-up reads did not finish in {max_wait:g} s")


async def bench_idle(options: Options, workdir: Path) -> IdleResult:
    """Measure the daemon's CPU time while idle with ``options.idle_stores`` stores."""
    stores = options.idle_stores
    tuning = DaemonTuning(
        store_concurrency=options.tuning.store_concurrency,
        pergai_concurrency=options.tuning.pergai_concurrency,
        job_check_interval=DaemonTuning.job_check_interval,
        poll_interval=3600.0,
    )
    async with serve_simulators(0, Latencies(0.0, 0.0, 0.0)) as sims:
        database = f"sqlite+aiosqlite:///{workdir / 'idle.sqlite'}"
        port = free_port()
        config = workdir / "idle.toml"
        config.write_text(config_text(sims, database, port, tuning, stores), encoding="utf-8")
        log = workdir / "idle.log"
        async with ServerProcess(daemon_command(config), daemon_env(sims), port, log) as daemon:
            await wait_for_start_up_polls(sims, stores, max_wait=300.0)
            before = daemon.cpu_seconds()
            await asyncio.sleep(options.idle_seconds)
            used = daemon.cpu_seconds() - before
            peak = daemon.peak_rss_bytes()
    return IdleResult(stores, options.idle_seconds, used, peak)


# Report


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / MIB:.1f} GiB"
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {memory} memory, "
        f"{model}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}" if baseline else "n/a"


def push_rows(report: Report) -> list[str]:
    push, base = report.push, report.baseline
    if push is None:
        return []
    images = push.images or 1
    rows = [
        f"| push: wall time, {push.products} products, {push.images} images written "
        f"| {push.seconds:.1f} s | |",
        f"| critical-path bound (see the script's docstring) | {report.bound:.1f} s "
        f"| wall / bound = {ratio(push.seconds, report.bound)} |",
    ]
    if base is not None:
        extrapolated = base.per_product * push.products
        rows.append(
            f"| sequential merchant script, {base.products} products run, "
            f"{base.per_product:.2f} s a product, extrapolated to {push.products} "
            f"| {extrapolated:.0f} s | baseline / wall = {ratio(extrapolated, push.seconds)} |"
        )
    pergai_calls = push.pergai_calls.total()
    store_calls = push.store_calls.total()
    minimum = (1 + OUTPUTS) / OUTPUTS
    rows += [
        f"| PergAI calls per written image (economical watching) "
        f"| {pergai_calls / images:.2f} | {pergai_calls} calls; minimum {minimum:.2f} |",
        f"| store API calls per written image | {store_calls / images:.2f} | {store_calls} calls |",
        f"| daemon peak resident memory (VmHWM) | {push.peak_rss / MIB:.0f} MiB | |",
    ]
    return rows


def ingest_rows(report: Report) -> list[str]:
    rows = []
    for label, (bare, daemon) in report.ingest.items():
        rows.append(
            f"| webhook ingest, {label}: daemon | {daemon.rate:.0f}/s "
            f"| bare handler {bare.rate:.0f}/s; daemon / bare = {ratio(daemon.rate, bare.rate)} |"
        )
        rows.append(
            f"| webhook ack latency, {label}: daemon p50 / p99 "
            f"| {daemon.percentile(0.5) * 1000:.1f} / {daemon.percentile(0.99) * 1000:.1f} ms "
            f"| bare p50 / p99 {bare.percentile(0.5) * 1000:.1f} / "
            f"{bare.percentile(0.99) * 1000:.1f} ms; {daemon.accepted} accepted, "
            f"errors {daemon.errors or 'none'} |"
        )
    return rows


def idle_rows(report: Report) -> list[str]:
    idle = report.idle
    if idle is None:
        return []
    return [
        f"| idle CPU, {idle.stores} stores, {idle.seconds:g} s after start-up "
        f"| {idle.cpu_seconds / idle.seconds:.3f} of a core "
        f"| {idle.cpu_seconds:.2f} CPU s; peak memory {idle.peak_rss / MIB:.0f} MiB |",
    ]


def render(report: Report) -> str:
    options = report.options
    latencies, tuning = options.latencies, options.tuning
    lines = [
        f"Machine: {machine()}",
        f"Latencies: store {latencies.store * 1000:g} ms, PergAI {latencies.pergai * 1000:g} ms "
        f"a call, generation {latencies.generation:g} s; concurrency per store "
        f"{tuning.store_concurrency}, PergAI {tuning.pergai_concurrency}; job check every "
        f"{tuning.job_check_interval:g} s",
        "",
        "| measure | value | against |",
        "|---|---|---|",
        *push_rows(report),
        *ingest_rows(report),
        *idle_rows(report),
    ]
    push = report.push
    if push is not None:
        lines += ["", "PergAI calls by endpoint: " + calls_text(push.pergai_calls)]
        lines += ["Store calls by endpoint: " + calls_text(push.store_calls)]
    return "\n".join(lines)


def calls_text(calls: Counter[str]) -> str:
    return ", ".join(f"{endpoint} {count}" for endpoint, count in calls.most_common())


async def run_bench(
    options: Options, *, sections: tuple[str, ...] = ("push", "ingest", "idle")
) -> Report:
    """Run the chosen sections and return their figures."""
    report = Report(options)
    with tempfile.TemporaryDirectory(prefix="pergai-bench-") as directory:
        workdir = Path(directory)
        if "push" in sections:
            report.baseline = await bench_baseline(options)
            report.push = await bench_push(options, workdir)
            report.bound = critical_path_bound(options.products, options.latencies, options.tuning)
        if "ingest" in sections:
            sqlite = f"sqlite+aiosqlite:///{workdir / 'ingest.sqlite'}"
            report.ingest["SQLite"] = await bench_ingest(options, sqlite, workdir, "sqlite")
            if options.postgres:
                async with scratch_postgres(options.postgres) as url:
                    report.ingest["PostgreSQL"] = await bench_ingest(
                        options, url, workdir, "postgresql"
                    )
        if "idle" in sections:
            report.idle = await bench_idle(options, workdir)
    return report


def parse_options() -> tuple[Options, tuple[str, ...]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add = parser.add_argument
    add("--products", type=int, default=1000, help="products pushed by the daemon")
    add("--baseline-products", type=int, default=10, help="products the sequential script runs")
    add("--baseline-poll", type=float, default=3.0, help="the script's poll interval in seconds")
    add("--store-latency", type=float, default=0.1, help="seconds per store API call")
    add("--pergai-latency", type=float, default=0.05, help="seconds per PergAI API call")
    add("--generation", type=float, default=2.0, help="seconds a PergAI job takes")
    add("--store-concurrency", type=int, default=2, help="[daemon] concurrency_per_store")
    add("--pergai-concurrency", type=int, default=4, help="[pergai] max_concurrency")
    add("--job-check", type=float, default=2.0, help="[daemon] job_check_interval in seconds")
    add("--webhooks", type=int, default=3000, help="max deliveries per ingest run")
    add("--webhook-seconds", type=float, default=20.0, help="max seconds per ingest run")
    add("--webhook-concurrency", type=int, default=32, help="concurrent webhook senders")
    add(
        "--postgres",
        default=os.environ.get("PERGAI_SYNC_TEST_DATABASE_URL"),
        help="postgresql+asyncpg:// URL; a scratch database is created beside it and dropped",
    )
    add("--idle-stores", type=int, default=200, help="stores configured in the idle run")
    add("--idle-seconds", type=float, default=30.0, help="seconds of idle CPU measured")
    add(
        "--sections",
        default="push,ingest,idle",
        help="comma-separated sections to run: push, ingest, idle",
    )
    args = parser.parse_args()
    options = Options(
        products=args.products,
        baseline_products=args.baseline_products,
        baseline_poll=args.baseline_poll,
        latencies=Latencies(args.store_latency, args.pergai_latency, args.generation),
        tuning=DaemonTuning(
            store_concurrency=args.store_concurrency,
            pergai_concurrency=args.pergai_concurrency,
            job_check_interval=args.job_check,
        ),
        webhooks=args.webhooks,
        webhook_concurrency=args.webhook_concurrency,
        webhook_seconds=args.webhook_seconds,
        postgres=args.postgres,
        idle_stores=args.idle_stores,
        idle_seconds=args.idle_seconds,
    )
    return options, tuple(part.strip() for part in args.sections.split(","))


def main() -> None:
    options, sections = parse_options()
    report = asyncio.run(run_bench(options, sections=sections))
    print(render(report))


if __name__ == "__main__":
    main()
