"""The `pergai-sync` command as a user runs it: demo, bad config, and SIGTERM mid-run."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.harness import (
    Simulators,
    config_text,
    free_port,
    listings,
    run_until_settled,
    stage_counts,
    write_config,
)

CLI = [sys.executable, "-m", "sync"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_demo_sample_catalogue(tmp_path: Path) -> None:
    result = run_cli("demo", "--output", str(tmp_path / "demo"))

    assert result.returncode == 0, result.stderr[-2000:]
    assert "done" in result.stdout
    images = list((tmp_path / "demo" / "images").rglob("pergai-*.png"))
    # Eight products in each of two stores, two outputs each.
    assert len(images) == 32

    # A second run in the same folder starts afresh: the first one's simulators are gone.
    again = run_cli("demo", "--output", str(tmp_path / "demo"))
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(list((tmp_path / "demo" / "images").rglob("pergai-*.png"))) == 32


def test_demo_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    from tests.acceptance.conftest import reset_postgres

    asyncio.run(reset_postgres(postgres_url))
    result = run_cli("demo", "--output", str(tmp_path / "demo"), "--database-url", postgres_url)

    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / "demo" / "images").rglob("pergai-*.png"))) == 32


def test_demo_woocommerce_sample_csv(tmp_path: Path, shared_dir: Path) -> None:
    catalogue = shared_dir / "data" / "woocommerce" / "sample_products.csv"

    result = run_cli("demo", "--output", str(tmp_path / "demo"), "--catalogue", str(catalogue))

    assert result.returncode == 0, result.stderr[-2000:]
    assert "failed" not in result.stdout.split("products per store and stage")[-1]
    assert list((tmp_path / "demo" / "images").rglob("pergai-*.png"))


def test_bad_config_exact_error(tmp_path: Path) -> None:
    config = tmp_path / "pergai-sync.toml"
    config.write_text(
        """[pergai]
api_key = "${PERGAI_API_KEY}"

[[stores]]
name = "acme"
platform = "shopify"
address = "acme.myshopify.com"
access_token = "${ACME_TOKEN}"

[[stores.outputs]]
scen = "studio"
""",
        encoding="utf-8",
    )

    result = run_cli(
        "check", "--config", str(config), env={"PERGAI_API_KEY": "pk_x", "ACME_TOKEN": "t"}
    )

    assert result.returncode == 2
    assert (
        f"{config}: stores[0].outputs[0].scen: unknown key 'scen'; did you mean 'scene'?"
        in result.stderr
    )


def test_missing_config_names_init(tmp_path: Path) -> None:
    result = run_cli("status", "--config", str(tmp_path / "absent.toml"))

    assert result.returncode == 2
    assert "pergai-sync init" in result.stderr


def test_init_writes_loadable_example(tmp_path: Path) -> None:
    target = tmp_path / "pergai-sync.toml"

    result = run_cli("init", str(target))

    assert result.returncode == 0, result.stderr
    assert "[[stores]]" in target.read_text(encoding="utf-8")
    again = run_cli("init", str(target))
    assert again.returncode == 1
    assert "--force" in again.stderr


@pytest.mark.parametrize("kill_after", [0.3])
async def test_sigterm_mid_run_loses_nothing(
    simulators: Simulators, database_url: str, tmp_path: Path, kill_after: float
) -> None:
    port = free_port()
    config = tmp_path / "pergai-sync.toml"
    settings = write_config(
        config, config_text(simulators, database_url, port, poll_interval="2s"), simulators
    )
    env = {**os.environ, **simulators.env()}

    daemon = await asyncio.create_subprocess_exec(
        *CLI,
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    # Stop it mid-run: once PergAI has started some jobs, not before start-up ends.
    for _ in range(600):
        if simulators.pergai_state.requests.get("POST /generations", 0) >= 2:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(kill_after)
    daemon.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(daemon.communicate(), 60)

    assert daemon.returncode == 0, stderr.decode()[-2000:]
    assert "released" in stderr.decode()

    await run_until_settled(settings)

    counts = await stage_counts(settings)
    assert all(set(stages) == {"done"} for stages in counts.values()), counts
    for store, items in (await listings(settings)).items():
        for item in items:
            written = [image.generation_id for image in item.images if image.generation_id]
            assert len(written) == 2, (store, item.title, written)
