"""Run the WooCommerce simulator: ``python -m simulators.woocommerce --port N``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from simulators.woocommerce.app import run
from simulators.woocommerce.settings import WooSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve a simulated WooCommerce store on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8090, help="TCP port (default 8090)")
    parser.add_argument("--catalogue", type=Path, help="a WooCommerce product CSV export to load")
    parser.add_argument("--timezone", default="UTC", help="site time zone, e.g. Europe/Istanbul")
    parser.add_argument(
        "--https", action="store_true", help="treat requests as HTTPS (Basic auth accepted)"
    )
    args = parser.parse_args(argv)

    settings = WooSettings(site_timezone=args.timezone, https=args.https)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.port, args.catalogue, settings))


if __name__ == "__main__":
    main()
