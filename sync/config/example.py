"""The commented example config that `pergai-sync init` writes, and the demo's config.

A test loads the example with its environment variables set and checks that
every key of the models appears in it, so the example stays complete.
"""

from __future__ import annotations

import json

# Environment variables the example config references.
EXAMPLE_ENV_VARS = (
    "PERGAI_API_KEY",
    "ACME_SHOPIFY_TOKEN",
    "ACME_SHOPIFY_WEBHOOK_SECRET",
    "ATOLYE_WC_KEY",
    "ATOLYE_WC_SECRET",
    "ATOLYE_WC_WEBHOOK_SECRET",
)

# Environment variables the demo config references, by the secret each holds.
DEMO_SECRET_VARS = {
    "pergai_api_key": "PERGAI_SYNC_DEMO_PERGAI_KEY",
    "shopify_access_token": "PERGAI_SYNC_DEMO_SHOPIFY_TOKEN",
    "shopify_webhook_secret": "PERGAI_SYNC_DEMO_SHOPIFY_WEBHOOK_SECRET",
    "woocommerce_consumer_key": "PERGAI_SYNC_DEMO_WC_KEY",
    "woocommerce_consumer_secret": "PERGAI_SYNC_DEMO_WC_SECRET",
    "woocommerce_webhook_secret": "PERGAI_SYNC_DEMO_WC_WEBHOOK_SECRET",
}

_EXAMPLE = """\
# pergai-sync configuration.
#
# Secrets are never written here: write "${VARIABLE}" and set that
# environment variable before running pergai-sync. A secret written
# literally is rejected, because config files get committed and copied.
#
# Durations accept a number of seconds (90) or text with a unit:
# "30s", "15m", "1h30m", "1d".
#
# After editing, run `pergai-sync check` to validate the file and test the
# credentials.

[pergai]
# PergAI API key (starts with pk_), read from the environment.
api_key = "${PERGAI_API_KEY}"
# Base URL of the PergAI external API.
base_url = "https://pergai.com/api/external/v1"
# Model for scene outputs that set no ai_provider; leave out to use PergAI's default.
ai_provider = "nano-banana"
# Aspect ratio (width:height) for scene outputs that set none; leave out to use PergAI's default.
aspect_ratio = "1:1"
# Time limit for one PergAI request (duration).
timeout = "60s"
# Maximum PergAI requests in flight at once, across all stores.
max_concurrency = 4
# Create a PergAI category when a store category matches none (true);
# when false, only existing PergAI categories are used.
create_categories = false
# Delete the PergAI product when its store product is deleted (true), or keep it (false).
delete_products_on_store_delete = false

[database]
# Mapping database. A relative SQLite path is resolved against this file's folder.
# For several daemons sharing the work use PostgreSQL, e.g.
# url = "postgresql+asyncpg://pergai:${PERGAI_DB_PASSWORD}@db.internal/pergai_sync"
url = "sqlite+aiosqlite:///pergai-sync.sqlite"

[server]
# Address the webhook and health server listens on.
host = "127.0.0.1"
# TCP port of the webhook and health server.
port = 8080
# Public https URL that reaches this server; `pergai-sync webhooks register` needs it.
# Webhooks are then sent to <public_url>/webhooks/<platform>/<store name>.
public_url = "https://sync.example.com"
# Largest webhook body accepted, in bytes (5 MiB).
max_body_bytes = 5242880

[daemon]
# How often `pergai-sync run` looks for due work (duration).
drain_interval = "5s"
# How often running PergAI jobs are checked for completion (duration).
job_check_interval = "15s"
# How often every store's catalogue is compared in full with the database (duration).
reconcile_interval = "1d"
# How long processed webhook deliveries are kept (duration).
inbox_retention = "7d"
# How long a daemon keeps its claim on work before another daemon may take it over (duration).
lease = "2m"
# Wait before a failed step is tried again the first time; it doubles on each failure (duration).
retry_base_delay = "10s"
# Image writes in flight at once per store. Steps that only call PergAI share
# [pergai] max_concurrency instead.
concurrency_per_store = 2
# Time to finish running work after a stop signal before exiting (duration).
shutdown_grace = "30s"
# Log line format: "text" or "json".
log_format = "text"

# A Shopify store. Each [[stores]] table adds one store.
[[stores]]
# Store name: lowercase letters, digits, '-' and '_'; it appears in webhook URLs.
name = "acme-shopify"
# "shopify" or "woocommerce".
platform = "shopify"
# The store's myshopify.com domain.
address = "acme.myshopify.com"
# Admin API access token (shpat_...) of the store's custom app.
access_token = "${ACME_SHOPIFY_TOKEN}"
# The app's client secret, which signs Shopify webhooks; leave out to rely on polling only.
webhook_secret = "${ACME_SHOPIFY_WEBHOOK_SECRET}"
# Shopify Admin API version.
api_version = "2025-01"
# Origin that replaces https://<address> for Admin API calls; only for local simulators.
# base_url = "http://127.0.0.1:8081"
# How often the catalogue is polled for changes (duration).
poll_interval = "15m"
# Time limit for one store API request (duration).
timeout = "60s"
# Source images that get outputs: "featured" (the product's main image only)
# or "variants" (also each variant's own image).
images = "featured"
# Write-back mode of finished images. "add" appends them after the existing
# images and "featured" adds them as the first image. "replace" adds them and
# detaches the originals, which `pergai-sync revert` restores. "review" keeps
# them in PergAI and the database without writing to the store.
write_back = "featured"
# Alt text of written images. Fields: {title}, {product_type}, {category},
# {tags}, {vendor}, {scene} (empty for tools) and {output} (scene or tool name).
alt_text = "{title} ({output})"
# PergAI jobs allowed per UTC day for this store; 0 pauses new jobs. Leave out for no limit.
daily_budget = 200
# PergAI collection that gathers this store's generations; "" for none.
# Leave out for "pergai-sync <store name>".
collection = "pergai-sync acme-shopify"

[stores.filters]
# Product statuses to process. Shopify: active, draft, archived, unlisted (default ["active"]).
statuses = ["active"]
# Product types to process; empty for all.
product_types = ["Hoodie", "T-Shirt"]
# Category paths to process, root first; a path includes its subcategories. Empty for all.
categories = ["Apparel & Accessories > Clothing"]
# Process only products with at least one of these tags; empty for all.
tags_include = []
# Skip products with any of these tags.
tags_exclude = ["no-ai"]
# Skip products without an image to use as the reference.
require_images = true

# Store category path -> PergAI category name or id, for categories the
# automatic matching gets wrong. The most specific path wins.
[stores.category_map]
"Apparel & Accessories > Clothing > Activewear" = "Sportswear"

# Outputs: each table is one scene or one tool, applied to every chosen product.
[[stores.outputs]]
# PergAI scene template name; `pergai-sync check` confirms it exists.
scene = "studio"
# Text added to the scene prompt. Fields: {title}, {product_type}, {category}, {tags}, {vendor}.
prompt = "{title} on a seamless light grey background, soft shadows"
# Model for this output; overrides [pergai] ai_provider.
ai_provider = "nano-banana-pro"
# Aspect ratio of this output (width:height); overrides [pergai] aspect_ratio.
aspect_ratio = "4:5"

[[stores.outputs]]
# Image tool: "remove-bg", "upscale" or "expand".
tool = "upscale"
# Upscale factor: "1x", "2x" or "4x" (upscale only, required).
scale = "2x"

[[stores.outputs]]
tool = "expand"
# Target ratio: "1:1", "16:9", "9:16", "4:3" or "3:4" (expand only, required).
ratio = "16:9"
# Optional description of the new area (expand only).
prompt = "continue the {category} backdrop"

# A WooCommerce store.
[[stores]]
name = "atolye-woo"
platform = "woocommerce"
# The site URL (https; plain http is signed with OAuth 1.0a).
address = "https://atolye.example.com"
# REST API consumer key (ck_...).
consumer_key = "${ATOLYE_WC_KEY}"
# REST API consumer secret (cs_...).
consumer_secret = "${ATOLYE_WC_SECRET}"
# Send the key pair in the query string instead of HTTP Basic auth; some
# servers strip the Authorization header.
query_string_auth = false
# Secret of the store's webhooks (WooCommerce > Settings > Advanced > Webhooks).
webhook_secret = "${ATOLYE_WC_WEBHOOK_SECRET}"
poll_interval = "30m"
images = "variants"
write_back = "add"
alt_text = "{title} – {category} 📸"

[stores.filters]
# WooCommerce statuses: publish, draft, pending, private, future (default ["publish"]).
statuses = ["publish"]
categories = ["Giyim > Kapüşonlu"]

[stores.category_map]
"Giyim > Kapüşonlu" = "Kapüşonlu Sweatshirt"

[[stores.outputs]]
scene = "luxury"
prompt = "{title}, {tags}"

[[stores.outputs]]
tool = "remove-bg"
"""


def example_config() -> str:
    """Return the commented example config that documents every key."""
    return _EXAMPLE


def demo_config(
    *,
    pergai_url: str,
    shopify_url: str | None = None,
    woocommerce_url: str | None = None,
    shopify_shop: str = "demo.myshopify.com",
    database_url: str | None = None,
    server_port: int = 8080,
    public_url: str | None = None,
    poll_interval: str = "30s",
) -> str:
    """Return a config for `pergai-sync demo` that points PergAI and the stores at simulators.

    The secrets are references to the variables in ``DEMO_SECRET_VARS``; the
    caller sets them to the simulators' keys. A store is included only when
    its URL is given. ``database_url`` defaults to a SQLite file beside the config.
    """
    lines = ["[pergai]", _pair("api_key", _ref("pergai_api_key")), _pair("base_url", pergai_url)]
    lines += ["", "[database]"]
    if database_url is not None:
        lines.append(_pair("url", database_url))

    lines += ["", "[server]", _pair("port", server_port)]
    if public_url is not None:
        lines.append(_pair("public_url", public_url))

    if shopify_url is not None:
        lines += _demo_shopify(shopify_url, shopify_shop, poll_interval)

    if woocommerce_url is not None:
        lines += _demo_woocommerce(woocommerce_url, poll_interval)

    return "\n".join(lines) + "\n"


def _demo_shopify(base_url: str, shop: str, poll_interval: str) -> list[str]:
    return [
        "",
        "[[stores]]",
        _pair("name", "demo-shopify"),
        _pair("platform", "shopify"),
        _pair("address", shop),
        _pair("base_url", base_url),
        _pair("access_token", _ref("shopify_access_token")),
        _pair("webhook_secret", _ref("shopify_webhook_secret")),
        _pair("poll_interval", poll_interval),
        _pair("write_back", "featured"),
        *_demo_outputs(),
    ]


def _demo_woocommerce(address: str, poll_interval: str) -> list[str]:
    return [
        "",
        "[[stores]]",
        _pair("name", "demo-woocommerce"),
        _pair("platform", "woocommerce"),
        _pair("address", address),
        _pair("consumer_key", _ref("woocommerce_consumer_key")),
        _pair("consumer_secret", _ref("woocommerce_consumer_secret")),
        _pair("webhook_secret", _ref("woocommerce_webhook_secret")),
        _pair("poll_interval", poll_interval),
        *_demo_outputs(),
    ]


def _demo_outputs() -> list[str]:
    return [
        "",
        "[[stores.outputs]]",
        _pair("scene", "studio"),
        _pair("prompt", "{title} on a clean studio background"),
        "",
        "[[stores.outputs]]",
        _pair("tool", "remove-bg"),
    ]


def _ref(secret: str) -> str:
    return "${" + DEMO_SECRET_VARS[secret] + "}"


def _pair(key: str, value: str | int) -> str:
    # json.dumps escapes quotes, backslashes and control characters the way a
    # TOML basic string does; DEL would be left raw, and these values never contain it.
    rendered = str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)
    return f"{key} = {rendered}"
