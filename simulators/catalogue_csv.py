"""Product CSV exports: tell a WooCommerce export from a Shopify one by its header."""

from __future__ import annotations

from pathlib import Path

from simulators.catalogue import SeedProduct


def read_catalogue_csv(path: str | Path) -> list[SeedProduct]:
    """Read a WooCommerce or a Shopify product CSV export, whichever ``path`` holds.

    Raises ``ValueError`` for a file that is neither, instead of loading it badly.
    """
    with Path(path).open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    if header.startswith("Handle,"):
        from simulators.shopify.csv_import import read_shopify_csv

        return read_shopify_csv(path)

    columns = {column.strip().strip('"') for column in header.split(",")}
    if {"Type", "Name"} <= columns:
        from simulators.woocommerce import read_woocommerce_csv

        return read_woocommerce_csv(path)
    raise ValueError(
        f"{path} is neither a WooCommerce product CSV export (columns ID, Type, Name, ...) "
        "nor a Shopify product CSV export (columns Handle, Title, ...)"
    )
