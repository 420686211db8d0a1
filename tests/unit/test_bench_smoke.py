"""Run the end-to-end benchmark's tiniest configuration, so the script keeps working.

Three products, no latency, a short generation and a few webhooks: every
section runs once and its counts are checked. Timings are not asserted.
"""

from __future__ import annotations

from bench.bench_end_to_end import OUTPUTS, Options, render, run_bench
from bench.e2e_daemon import DaemonTuning
from bench.e2e_simulators import Latencies

TINY = Options(
    products=3,
    baseline_products=1,
    baseline_poll=0.2,
    latencies=Latencies(store=0.0, pergai=0.0, generation=0.2),
    tuning=DaemonTuning(job_check_interval=0.5, drain_interval=1.0),
    webhooks=40,
    webhook_concurrency=4,
    webhook_seconds=10.0,
    idle_stores=3,
    idle_seconds=0.5,
)


async def test_bench_tiny_run() -> None:
    report = await run_bench(TINY)

    assert report.push is not None
    assert report.push.images == TINY.products * OUTPUTS
    assert report.baseline is not None
    assert report.baseline.images == TINY.baseline_products * OUTPUTS
    assert report.push.pergai_calls["POST /products"] == TINY.products
    assert report.push.store_calls.total() > 0
    bare, daemon = report.ingest["SQLite"]
    assert bare.accepted == TINY.webhooks
    assert daemon.accepted == TINY.webhooks
    assert daemon.errors == {}
    assert report.idle is not None
    assert report.idle.cpu_seconds >= 0
    assert "economical watching" in render(report)
