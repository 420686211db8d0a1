"""The `pergai-sync` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from sync import __version__
from sync.config import example_config, load_config, resolve_config_path
from sync.config.settings import Settings
from sync.errors import PergaiSyncError
from sync.logs import configure_logging

config_option = click.option(
    "--config",
    "config_path",
    default=None,
    help="Config file (default: $PERGAI_SYNC_CONFIG, else ./pergai-sync.toml).",
)


def run_async(coroutine: Coroutine[Any, Any, int | None]) -> None:
    """Run a command's coroutine; a pergai-sync error prints its message and exits 1."""
    try:
        code = asyncio.run(coroutine)
    except PergaiSyncError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)


def settings_from(config_path: str | None) -> Settings:
    try:
        return load_config(resolve_config_path(config_path))
    except PergaiSyncError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


@click.group()
@click.version_option(__version__, prog_name="pergai-sync")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="info",
    show_default=True,
    help="The lowest level of log records written to stderr.",
)
@click.option("--log-json", is_flag=True, help="Log one JSON object per line instead of text.")
@click.pass_context
def main(context: click.Context, log_level: str, log_json: bool) -> None:
    """Keep a Shopify or WooCommerce catalogue in step with PergAI product photography."""
    configure_logging(log_level, json_format=log_json)
    context.obj = {"log_level": log_level, "log_json": log_json}


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.argument("path", default="pergai-sync.toml")
def init(path: str, force: bool) -> None:
    """Write a commented example config to PATH."""
    target = Path(path)
    if target.exists() and not force:
        click.echo(f"error: {target} already exists; pass --force to overwrite it", err=True)
        sys.exit(1)
    target.write_text(example_config(), encoding="utf-8")
    click.echo(f"wrote {target}; set the variables it names, then run `pergai-sync check`")


@main.command()
@config_option
def check(config_path: str | None) -> None:
    """Validate the config, the store and PergAI credentials, and that each scene exists."""
    from sync.commands import check_command

    run_async(check_command(settings_from(config_path)))


@main.command()
@config_option
@click.pass_context
def run(context: click.Context, config_path: str | None) -> None:
    """Run the daemon: webhook server, timers and engine, until SIGTERM or SIGINT."""
    from sync.daemon import run_daemon

    settings = settings_from(config_path)
    options = context.obj or {}
    json_format = bool(options.get("log_json")) or settings.daemon.log_format == "json"
    configure_logging(options.get("log_level", "info"), json_format=json_format)
    run_async(run_daemon(settings))


@main.command(name="sync")
@config_option
@click.option("--store", default=None, help="Only this store (default: every store).")
@click.option("--dry-run", is_flag=True, help="Print what would be done; change nothing.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait for results.")
def sync_command(config_path: str | None, store: str | None, dry_run: bool, timeout: float) -> None:
    """Make one pass over the stores and wait for the results; exit 0 only if nothing failed."""
    from sync.commands import dry_run_command, sync_once

    settings = settings_from(config_path)
    if dry_run:
        run_async(dry_run_command(settings, store))
    else:
        run_async(sync_once(settings, store, timeout))


@main.command()
@config_option
def status(config_path: str | None) -> None:
    """Show products per store and stage, budgets and recent failures with their reasons."""
    from sync.commands import status_command

    run_async(status_command(settings_from(config_path)))


@main.command()
@config_option
@click.option("--store", default=None, help="Only this store.")
@click.option("--product", default=None, help="Only this store product id.")
def retry(config_path: str | None, store: str | None, product: str | None) -> None:
    """Send failed products back to work."""
    from sync.commands import retry_command

    run_async(retry_command(settings_from(config_path), store, product))


@main.command()
@config_option
@click.option("--store", default=None, help="Only this store.")
@click.option("--product", default=None, help="Only this store product id.")
@click.option(
    "--mode",
    type=click.Choice(["add", "featured", "replace"]),
    default="add",
    show_default=True,
    help="How the approved images go onto the listing.",
)
def approve(config_path: str | None, store: str | None, product: str | None, mode: str) -> None:
    """Write images held for review (write_back = "review") to the store listings."""
    from sync.commands import approve_command

    run_async(approve_command(settings_from(config_path), store, product, mode))


@main.command()
@config_option
@click.option("--store", required=True, help="The store to revert.")
@click.option("--product", default=None, help="Only this store product id.")
def revert(config_path: str | None, store: str, product: str | None) -> None:
    """Remove our images from listings and restore the originals a replace detached."""
    from sync.commands import revert_command

    run_async(revert_command(settings_from(config_path), store, product))


@main.group()
def webhooks() -> None:
    """Manage the stores' webhook subscriptions."""


@webhooks.command(name="register")
@config_option
def webhooks_register(config_path: str | None) -> None:
    """Subscribe each store's product webhooks to [server] public_url."""
    from sync.commands import register_webhooks_command

    run_async(register_webhooks_command(settings_from(config_path)))


@main.group()
def db() -> None:
    """Manage the mapping database."""


@db.command(name="upgrade")
@config_option
def db_upgrade(config_path: str | None) -> None:
    """Apply the database migrations."""
    from sync.commands import upgrade_command

    run_async(upgrade_command(settings_from(config_path)))


@main.command()
@click.option(
    "--catalogue",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A WooCommerce or Shopify product CSV export to load instead of the sample.",
)
@click.option(
    "--output",
    type=click.Path(file_okay=False),
    default="pergai-sync-demo",
    show_default=True,
    help="Folder for the config, database and written images.",
)
@click.option(
    "--timeout", default=600.0, show_default=True, help="Seconds to wait for every product."
)
@click.option(
    "--database-url",
    default=None,
    help="Mapping database URL (default: a SQLite file in the output folder).",
)
def demo(catalogue: str | None, output: str, timeout: float, database_url: str | None) -> None:
    """Run the whole job against local simulators of Shopify, WooCommerce and PergAI."""
    from sync.demo import run_demo

    catalogue_path = Path(catalogue) if catalogue else None
    run_async(run_demo(Path(output), catalogue_path, timeout, database_url))


@main.group()
def simulate() -> None:
    """Run one of the local API simulators in the foreground."""


@simulate.command(name="pergai")
@click.option("--port", default=8181, show_default=True)
def simulate_pergai(port: int) -> None:
    """Serve the PergAI API simulator."""
    from simulators.pergai.__main__ import main as pergai_main

    pergai_main(["--port", str(port)])


def simulator_args(port: int, catalogue: str | None) -> list[str]:
    return ["--port", str(port), *(["--catalogue", catalogue] if catalogue else [])]


@simulate.command(name="shopify")
@click.option("--port", default=8182, show_default=True)
@click.option("--catalogue", type=click.Path(exists=True, dir_okay=False), default=None)
def simulate_shopify(port: int, catalogue: str | None) -> None:
    """Serve the Shopify Admin API simulator."""
    from simulators.shopify.run import run as run_shopify

    try:
        asyncio.run(run_shopify(port=port, catalogue=Path(catalogue) if catalogue else None))
    except ValueError as error:  # a catalogue that is no product CSV export
        raise click.ClickException(str(error)) from error


@simulate.command(name="woocommerce")
@click.option("--port", default=8183, show_default=True)
@click.option("--catalogue", type=click.Path(exists=True, dir_okay=False), default=None)
def simulate_woocommerce(port: int, catalogue: str | None) -> None:
    """Serve the WooCommerce REST API simulator."""
    from simulators.woocommerce.__main__ import main as woocommerce_main

    try:
        woocommerce_main(simulator_args(port, catalogue))
    except ValueError as error:  # a catalogue that is no product CSV export
        raise click.ClickException(str(error)) from error
