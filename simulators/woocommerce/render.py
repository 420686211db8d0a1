"""Products, variations, images and categories as WooCommerce 7.9 sends them (wire key order)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from simulators.woocommerce.model import Attachment, Category, Product, Variation, Webhook
from simulators.woocommerce.state import WooState
from simulators.woocommerce.text import autop
from simulators.woocommerce.wire import local_time, wire_date

API = "/wp-json/wc/v3"


def price_html(price: str) -> str:
    if not price:
        return ""
    amount = f"{float(price):.2f}"
    return (
        '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-'
        f'currencySymbol">&#36;</span>{amount}</bdi></span>'
    )


def image_json(state: WooState, attachment: Attachment, home: str) -> dict[str, Any]:
    """Render an image; WooCommerce 7.9 sends ``date_created`` off by twice the site offset."""
    created = attachment.date_created_gmt
    offset = state.zone.utcoffset(created) or timedelta(0)
    skewed = wire_date(created + 2 * offset)
    return {
        "id": attachment.id,
        "date_created": skewed,
        "date_created_gmt": wire_date(created),
        "date_modified": skewed,
        "date_modified_gmt": wire_date(created),
        "src": home + state.media_path(attachment),
        "name": attachment.name,
        "alt": attachment.alt,
    }


def _dates(state: WooState, created: Any, modified: Any) -> dict[str, Any]:
    zone = state.zone
    return {
        "date_created": wire_date(local_time(created, zone)),
        "date_created_gmt": wire_date(created),
        "date_modified": wire_date(local_time(modified, zone)),
        "date_modified_gmt": wire_date(modified),
    }


def _links(home: str, path: str, collection: str, up: str | None = None) -> dict[str, Any]:
    links: dict[str, Any] = {
        "self": [{"href": f"{home}{API}/{path}"}],
        "collection": [{"href": f"{home}{API}/{collection}"}],
    }
    if up is not None:
        links["up"] = [{"href": f"{home}{API}/{up}"}]
    return links


def _categories(state: WooState, ids: list[int]) -> list[dict[str, Any]]:
    found = [state.categories[i] for i in ids if i in state.categories]
    return [{"id": c.id, "name": c.name, "slug": c.slug} for c in found]


def _attributes(product: Product) -> list[dict[str, Any]]:
    return [
        {
            "id": 0,
            "name": name,
            "position": position,
            "visible": True,
            "variation": product.type == "variable",
            "options": options,
        }
        for position, (name, options) in enumerate(product.attributes.items())
    ]


def _common_tail(price: str) -> dict[str, Any]:
    return {
        "sale_price": "",
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
        "on_sale": False,
        "purchasable": bool(price),
    }


def product_json(
    state: WooState, product: Product, home: str, *, edit: bool = False
) -> dict[str, Any]:
    """Render ``product`` as GET /products/{id} does (``edit``: as POST/PUT responses do)."""
    price = product.regular_price or _lowest_variation_price(state, product)
    permalink = f"{home}/product/{product.slug}/"
    if product.status == "trash":
        permalink = f"{home}/?post_type=product&p={product.id}"
    images = [state.media[i] for i in product.image_ids if i in state.media]
    return {
        "id": product.id,
        "name": product.name,
        "slug": product.slug if product.status != "trash" else f"{product.slug}__trashed",
        "permalink": permalink,
        **_dates(state, product.date_created_gmt, product.date_modified_gmt),
        "type": product.type,
        "status": product.status,
        "featured": product.featured,
        "catalog_visibility": "visible",
        "description": product.description if edit else autop(product.description),
        "short_description": (
            product.short_description if edit else autop(product.short_description)
        ),
        "sku": product.sku,
        "price": price,
        "regular_price": product.regular_price,
        **_common_tail(price),
        "total_sales": 0,
        "virtual": product.virtual,
        "downloadable": product.downloadable,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": product.external_url,
        "button_text": product.button_text,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": not product.virtual,
        "shipping_taxable": not product.virtual,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": _categories(state, product.category_ids),
        "tags": [{"id": 0, "name": t, "slug": t.lower().replace(" ", "-")} for t in product.tags],
        "images": [image_json(state, image, home) for image in images],
        "attributes": _attributes(product),
        "default_attributes": [],
        "variations": list(product.variation_ids),
        "grouped_products": [],
        "menu_order": 0,
        "price_html": price_html(price),
        "related_ids": [],
        "meta_data": list(product.meta_data),
        "stock_status": "instock",
        "has_options": product.type == "variable",
        "_links": _links(home, f"products/{product.id}", "products"),
    }


def _lowest_variation_price(state: WooState, product: Product) -> str:
    prices = [
        float(state.variations[v].regular_price)
        for v in product.variation_ids
        if v in state.variations and state.variations[v].regular_price
    ]
    return f"{min(prices):g}" if prices else ""


def _variation_name(state: WooState, variation: Variation) -> str:
    parent = state.products.get(variation.parent_id)
    base = parent.name if parent else ""
    options = ", ".join(variation.options.values())
    return f"{base} - {options}" if options else base


def variation_json(state: WooState, variation: Variation, home: str) -> dict[str, Any]:
    """Render ``variation`` as GET /products/{pid}/variations/{id} does."""
    parent = state.products.get(variation.parent_id)
    slug = parent.slug if parent else ""
    query = "&".join(
        f"attribute_pa_{name.lower()}={value.lower()}" for name, value in variation.options.items()
    )
    image = state.media.get(variation.image_id) if variation.image_id else None
    price = variation.regular_price
    return {
        "id": variation.id,
        "type": "variation",
        **_dates(state, variation.date_created_gmt, variation.date_modified_gmt),
        "description": variation.description,
        "permalink": f"{home}/product/{slug}/?{query}",
        "sku": variation.sku,
        "price": price,
        "regular_price": price,
        **_common_tail(price),
        "status": variation.status,
        "virtual": False,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable",
        "tax_class": "",
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "weight": "",
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": image_json(state, image, home) if image else None,
        "attributes": [
            {"id": 0, "name": name, "option": option} for name, option in variation.options.items()
        ],
        "menu_order": 0,
        "meta_data": [],
        "name": _variation_name(state, variation),
        "parent_id": variation.parent_id,
        "_links": _links(
            home,
            f"products/{variation.parent_id}/variations/{variation.id}",
            f"products/{variation.parent_id}/variations",
            up=f"products/{variation.parent_id}",
        ),
    }


def variation_as_product_json(state: WooState, variation: Variation, home: str) -> dict[str, Any]:
    """Render a variation through the product schema, as a webhook body carries it."""
    parent = state.products.get(variation.parent_id)
    shell = Product(
        id=variation.id,
        name=_variation_name(state, variation),
        slug=(parent.slug if parent else "variation")
        + "-"
        + "-".join(v.lower() for v in variation.options.values()),
        type="variation",
        status=variation.status,
        date_created_gmt=variation.date_created_gmt,
        date_modified_gmt=variation.date_modified_gmt,
        sku=variation.sku,
        regular_price=variation.regular_price,
        image_ids=[variation.image_id] if variation.image_id else [],
    )
    body = product_json(state, shell, home)
    body["parent_id"] = variation.parent_id
    body["reviews_allowed"] = False
    body["has_options"] = False
    body["attributes"] = [
        {"id": 0, "name": name, "option": option} for name, option in variation.options.items()
    ]
    body["_links"] = _links(
        home, f"products/{variation.id}", "products", up=f"products/{variation.parent_id}"
    )
    return body


def category_json(category: Category, home: str, count: int) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "slug": category.slug,
        "parent": category.parent,
        "description": "",
        "display": "default",
        "image": None,
        "menu_order": 0,
        "count": count,
        "_links": _links(home, f"products/categories/{category.id}", "products/categories"),
    }


def webhook_json(state: WooState, webhook: Webhook, home: str) -> dict[str, Any]:
    """Render a webhook; the secret is never shown."""
    hooks = {
        "created": [
            "woocommerce_process_product_meta",
            "woocommerce_new_product",
            "woocommerce_new_product_variation",
        ],
        "updated": [
            "woocommerce_process_product_meta",
            "woocommerce_update_product",
            "woocommerce_update_product_variation",
        ],
        "deleted": ["wp_trash_post"],
        "restored": ["untrashed_post"],
    }
    zone = state.zone
    modified = webhook.date_modified_gmt
    return {
        "id": webhook.id,
        "name": webhook.name,
        "status": webhook.status,
        "topic": webhook.topic,
        "resource": webhook.resource,
        "event": webhook.event,
        "hooks": hooks.get(webhook.event, []),
        "delivery_url": webhook.delivery_url,
        "date_created": wire_date(local_time(webhook.date_created_gmt, zone)),
        "date_created_gmt": wire_date(webhook.date_created_gmt),
        "date_modified": wire_date(local_time(modified, zone)) if modified else None,
        "date_modified_gmt": wire_date(modified),
        "_links": _links(home, f"webhooks/{webhook.id}", "webhooks"),
    }
