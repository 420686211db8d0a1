"""Switches of the Shopify simulator: the shop, its credentials, limits and faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulators.faults import Faults

DEFAULT_SCOPES = ("read_products", "write_products", "read_files", "write_files")


@dataclass
class ShopifySettings:
    """Everything a test or the demo can set on the simulated shop.

    Times are in seconds. The cost bucket defaults to the Standard plan
    (2,000 points, 100 points a second). Webhook rates are probabilities per
    delivery and may be changed while the simulator runs.
    """

    shop: str = "pergai-demo"
    shop_name: str = "PergAI Demo"
    access_token: str = "shpat_simulator_token"
    webhook_secret: str = "simulator-webhook-secret"
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    bucket_enabled: bool = True
    bucket_max: float = 2000.0
    restore_rate: float = 100.0
    # Answer a throttled query with HTTP 429 instead of Shopify's usual HTTP 200.
    throttle_with_429: bool = False
    max_query_cost: int = 1000
    # Chance per query that another client of the same app (a second daemon, a CLI
    # run) has just spent the bucket to zero, which the client's own pacing cannot see.
    other_client_rate: float = 0.0

    # Time each media processing step (UPLOADED -> PROCESSING -> READY) takes.
    media_step_delay: float = 0.02
    # The next N media fail with IMAGE_DOWNLOAD_FAILURE whatever their source.
    media_failures: int = 0
    reorder_delay: float = 0.02
    bulk_delay: float = 0.02
    bulk_chunk: int = 500

    webhook_duplicate_rate: float = 0.0
    webhook_drop_rate: float = 0.0
    # Deliver each webhook after a random delay up to this, so they arrive out of order.
    webhook_max_delay: float = 0.0
    webhook_attempts: int = 3
    webhook_timeout: float = 5.0

    seed: int | None = None
    faults: Faults = field(default_factory=Faults)

    @property
    def domain(self) -> str:
        return f"{self.shop}.myshopify.com"
