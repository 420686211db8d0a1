"""Local, faithful stand-ins of the Shopify, WooCommerce and PergAI APIs."""
