"""A local stand-in for the Shopify Admin GraphQL API (version 2025-01 subset)."""

from simulators.shopify.app import STATE_KEY, create_app
from simulators.shopify.settings import ShopifySettings
from simulators.shopify.shop import ShopifyState

__all__ = ["STATE_KEY", "ShopifySettings", "ShopifyState", "create_app"]
