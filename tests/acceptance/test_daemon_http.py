"""The daemon's HTTP endpoints: health, metrics, and webhook answers."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import aiohttp

from sync.daemon import Daemon
from sync.runtime import open_context
from tests.acceptance.harness import Simulators, config_text, free_port, write_config


async def test_health_metrics_and_webhook_codes(simulators: Simulators, tmp_path: Path) -> None:
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = write_config(
        tmp_path / "c.toml", config_text(simulators, database, port), simulators
    )
    base = f"http://127.0.0.1:{port}"

    async with open_context(settings) as ctx, aiohttp.ClientSession() as http:
        daemon = Daemon(ctx)
        running = asyncio.create_task(daemon.run())
        await asyncio.sleep(1.0)

        async with http.get(f"{base}/healthz") as response:
            health = (response.status, await response.json())
        async with http.post(f"{base}/webhooks/shopify/nope", data=b"{}") as response:
            unknown = response.status
        async with http.post(f"{base}/webhooks/woocommerce/shop", data=b"{}") as response:
            wrong_platform = response.status
        async with http.post(
            f"{base}/webhooks/shopify/shop",
            data=b'{"id": 1}',
            headers={"X-Shopify-Topic": "products/update", "X-Shopify-Hmac-Sha256": "bad"},
        ) as response:
            bad_signature = response.status
        async with http.post(
            f"{base}/webhooks/shopify/shop", data=io.BytesIO(b"x" * (6 * 1024 * 1024))
        ) as response:
            too_large = response.status
        async with http.get(f"{base}/metrics") as response:
            metrics = await response.text()

        daemon.stop()
        await running

    assert health == (200, {"status": "ok"})
    assert unknown == 404
    assert wrong_platform == 404
    assert bad_signature == 401
    assert too_large == 413
    assert 'pergai_sync_webhooks_total{outcome="bad_signature",store="shop"} 1.0' in metrics
    assert "pergai_sync_products{" in metrics
