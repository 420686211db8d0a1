"""A faithful WooCommerce REST API v3 simulator (WooCommerce 7.9 on WordPress 6.1 behaviour)."""

from simulators.woocommerce.app import STATE_KEY, WEBHOOKS_KEY, create_app, run
from simulators.woocommerce.csv_import import read_woocommerce_csv
from simulators.woocommerce.settings import WooSettings
from simulators.woocommerce.state import WooState

__all__ = [
    "STATE_KEY",
    "WEBHOOKS_KEY",
    "WooSettings",
    "WooState",
    "create_app",
    "read_woocommerce_csv",
    "run",
]
