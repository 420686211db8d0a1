"""The CLI commands that inspect and steer the work: check, sync, status, retry, webhooks, db."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.acceptance.harness import (
    Simulators,
    config_text,
    free_port,
    listings,
    run_cli,
    stage_counts,
    write_config,
)


def write(tmp_path: Path, sims: Simulators, database_url: str, **options: object) -> Path:
    path = tmp_path / "pergai-sync.toml"
    write_config(path, config_text(sims, database_url, free_port(), **options), sims)  # type: ignore[arg-type]
    return path


async def test_db_upgrade_then_status(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    config = write(tmp_path, simulators, database_url)

    upgraded = await run_cli("db", "upgrade", "--config", str(config), env=simulators.env())
    status = await run_cli("status", "--config", str(config), env=simulators.env())

    assert upgraded.code == 0, upgraded.stderr
    assert "is at revision" in upgraded.stdout
    assert status.code == 0, status.stderr
    assert "products per store and stage" in status.stdout


async def test_check_passes_on_simulators(simulators: Simulators, tmp_path: Path) -> None:
    config = write(tmp_path, simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    result = await run_cli("check", "--config", str(config), env=simulators.env())

    assert result.code == 0, result.stdout + result.stderr
    assert "ok store shop" in result.stdout
    assert "ok store woo" in result.stdout
    assert "scene templates" in result.stdout


async def test_check_names_unknown_scene(simulators: Simulators, tmp_path: Path) -> None:
    text = config_text(simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", free_port())
    config = tmp_path / "pergai-sync.toml"
    config.write_text(text.replace('scene = "studio"', 'scene = "moonbase"'), encoding="utf-8")

    result = await run_cli("check", "--config", str(config), env=simulators.env())

    assert result.code == 1
    assert "outputs[0].scene 'moonbase' is not a PergAI template" in result.stdout


async def test_check_refused_pergai_key(simulators: Simulators, tmp_path: Path) -> None:
    config = write(tmp_path, simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    env = {**simulators.env(), "T_PERGAI_KEY": "pk_wrong_key_123"}

    result = await run_cli("check", "--config", str(config), env=env)

    assert result.code == 1
    assert "401" in result.stdout
    assert "pk_wrong_key_123" not in result.stdout + result.stderr


async def test_sync_one_pass_exit_zero(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    config = write(tmp_path, simulators, database_url)

    result = await run_cli("sync", "--config", str(config), env=simulators.env())

    assert result.code == 0, result.stderr[-2000:]
    settings_counts = await stage_counts(
        write_config(config, config.read_text(encoding="utf-8"), simulators)
    )
    assert all(set(stages) == {"done"} for stages in settings_counts.values())


async def test_sync_dry_run_changes_nothing(simulators: Simulators, tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    config = write(tmp_path, simulators, f"sqlite+aiosqlite:///{database}")
    settings = write_config(config, config.read_text(encoding="utf-8"), simulators)
    before = await listings(settings)

    result = await run_cli("sync", "--dry-run", "--config", str(config), env=simulators.env())

    assert result.code == 0, result.stderr[-2000:]
    assert "make scene:studio, tool:remove-bg" in result.stdout
    assert len(simulators.pergai_state.generations) == 0
    assert await listings(settings) == before


async def test_sync_exit_code_one_on_failure(
    simulators: Simulators, database_url: str, tmp_path: Path
) -> None:
    # Every PergAI job fails, so every product ends failed and `sync` reports it.
    simulators.pergai_state.settings.failure_rate = 1.0
    config = write(tmp_path, simulators, database_url, platforms=("woocommerce",))

    result = await run_cli("sync", "--config", str(config), env=simulators.env(), max_wait=300)

    assert result.code == 1, result.stdout[-2000:]
    assert "recent failures" in result.stdout

    simulators.pergai_state.settings.failure_rate = 0.0
    retried = await run_cli("retry", "--config", str(config), env=simulators.env())
    assert retried.code == 0
    assert "8 failed products sent back to work" in retried.stdout
    again = await run_cli("sync", "--config", str(config), env=simulators.env(), max_wait=300)
    assert again.code == 0, again.stdout[-2000:]


async def test_webhooks_register_subscribes(simulators: Simulators, tmp_path: Path) -> None:
    config = write(tmp_path, simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    result = await run_cli("webhooks", "register", "--config", str(config), env=simulators.env())

    assert result.code == 0, result.stderr
    assert "shop: " in result.stdout
    assert "/webhooks/shopify/shop" in result.stdout
    assert "/webhooks/woocommerce/woo" in result.stdout


async def test_run_port_in_use_clear_error(simulators: Simulators, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        text = config_text(simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", port)
        config = tmp_path / "pergai-sync.toml"
        config.write_text(text, encoding="utf-8")

        result = await run_cli("run", "--config", str(config), env=simulators.env())

    assert result.code == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "change [server] port" in result.stderr
    assert "Traceback" not in result.stderr


async def test_dry_run_after_sync_plans_nothing(simulators: Simulators, tmp_path: Path) -> None:
    config = write(tmp_path, simulators, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    synced = await run_cli("sync", "--config", str(config), env=simulators.env())
    assert synced.code == 0, synced.stderr[-2000:]

    result = await run_cli("sync", "--dry-run", "--config", str(config), env=simulators.env())

    assert result.code == 0, result.stderr[-2000:]
    assert "nothing: already done for this image" in result.stdout
    assert "make scene:studio" not in result.stdout
