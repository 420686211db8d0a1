"""Switches of the WooCommerce simulator: time zone, HTTPS, keys, images and webhooks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from simulators.faults import Faults


def new_consumer_key() -> str:
    return "ck_" + secrets.token_hex(20)


def new_consumer_secret() -> str:
    return "cs_" + secrets.token_hex(20)


@dataclass
class WooSettings:
    """How the simulated store behaves. Tests may change fields while the server runs.

    ``https`` makes the store treat every request as HTTPS (Basic and
    query-string authentication accepted, OAuth not required). Loopback tests
    are plain HTTP, so by default only OAuth 1.0a authenticates, as on a real
    store served over HTTP; ``trust_forwarded_proto`` honours
    ``X-Forwarded-Proto: https`` as a TLS-terminating proxy setup does.
    """

    site_timezone: str = "UTC"
    https: bool = False
    trust_forwarded_proto: bool = True
    # Ignore the Authorization header, as some hosts (CGI/FastCGI setups) do.
    strip_authorization: bool = False
    consumer_key: str = field(default_factory=new_consumer_key)
    consumer_secret: str = field(default_factory=new_consumer_secret)
    read_only_key: str = field(default_factory=new_consumer_key)
    read_only_secret: str = field(default_factory=new_consumer_secret)
    # Reject image URLs on private/loopback hosts or ports other than 80, 443
    # and 8080, as WordPress's safe remote requests do.
    refuse_private_hosts: bool = False
    # Seconds each image download takes on top of the transfer.
    sideload_delay: float = 0.0
    # Seconds between a change and its webhook delivery (a real store: 35-70 s).
    webhook_delay: float = 0.05
    # Probabilities per delivery: send it twice, or never.
    webhook_duplicate_rate: float = 0.0
    webhook_drop_rate: float = 0.0
    # Consecutive failed deliveries after which a webhook is disabled.
    webhook_max_failures: int = 5
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None
