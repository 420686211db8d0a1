"""Adapters to outside systems: the stores (Shopify, WooCommerce) and PergAI."""
