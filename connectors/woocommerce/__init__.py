"""WooCommerce REST API v3 connector."""

from connectors.woocommerce.connector import WooCommerceConnector
from connectors.woocommerce.errors import ImageUploadError

__all__ = ["ImageUploadError", "WooCommerceConnector"]
