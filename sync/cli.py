"""The `pergai-sync` command line."""

from __future__ import annotations

import click

from sync import __version__


@click.group()
@click.version_option(__version__, prog_name="pergai-sync")
def main() -> None:
    """Keep a Shopify or WooCommerce catalogue in step with PergAI product photography."""


@main.group()
def simulate() -> None:
    """Run one of the local API simulators in the foreground."""
