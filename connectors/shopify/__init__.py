"""The Shopify connector: the Admin GraphQL API over aiohttp."""

from connectors.shopify.connector import ShopifyConnector, normalise_shop

__all__ = ["ShopifyConnector", "normalise_shop"]
