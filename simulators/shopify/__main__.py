"""Run the Shopify simulator: ``python -m simulators.shopify --port N [--catalogue FILE]``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from simulators.shopify.run import run
from simulators.shopify.settings import ShopifySettings


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a local Shopify Admin GraphQL API.")
    parser.add_argument("--port", type=int, default=8765, help="TCP port on 127.0.0.1")
    parser.add_argument("--catalogue", type=Path, help="product CSV export or REST product JSON")
    parser.add_argument("--generate", type=int, default=0, help="add this many synthetic products")
    parser.add_argument("--shop", default="pergai-demo", help="shop name (NAME.myshopify.com)")
    parser.add_argument(
        "--token", default=ShopifySettings.access_token, help="access token to accept"
    )

    parser.add_argument("--no-bucket", action="store_true", help="switch the cost bucket off")
    parser.add_argument("--bucket", type=float, default=2000.0, help="bucket size in points")
    parser.add_argument(
        "--restore-rate", type=float, default=100.0, help="points restored a second"
    )
    arguments = parser.parse_args()

    settings = ShopifySettings(
        shop=arguments.shop,
        access_token=arguments.token,
        bucket_enabled=not arguments.no_bucket,
        bucket_max=arguments.bucket,
        restore_rate=arguments.restore_rate,
        bulk_delay=0.0,
    )
    asyncio.run(
        run(
            settings,
            port=arguments.port,
            catalogue=arguments.catalogue,
            generate=arguments.generate,
        )
    )


if __name__ == "__main__":
    main()
