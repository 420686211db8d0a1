"""Helpers for the config tests: small config texts and an environment holding their secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

PERGAI_KEY = "pk_test_0123456789secret"
SHOPIFY_TOKEN = "shpat_test_9876543210secret"
WC_KEY = "ck_test_keyvalue"
WC_SECRET = "cs_test_secretvalue"
WEBHOOK_SECRET = "whsec_test_value"

ENV = {
    "PERGAI_API_KEY": PERGAI_KEY,
    "ACME_TOKEN": SHOPIFY_TOKEN,
    "ACME_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "ATOLYE_KEY": WC_KEY,
    "ATOLYE_SECRET": WC_SECRET,
}
SECRET_VALUES = (PERGAI_KEY, SHOPIFY_TOKEN, WC_KEY, WC_SECRET, WEBHOOK_SECRET)

PERGAI = """\
[pergai]
api_key = "${PERGAI_API_KEY}"
"""

SHOPIFY = """\
[[stores]]
name = "acme"
platform = "shopify"
address = "acme.myshopify.com"
access_token = "${ACME_TOKEN}"
"""

WOOCOMMERCE = """\
[[stores]]
name = "atolye"
platform = "woocommerce"
address = "https://atolye.example.com"
consumer_key = "${ATOLYE_KEY}"
consumer_secret = "${ATOLYE_SECRET}"
"""

STUDIO = """\
[[stores.outputs]]
scene = "studio"
"""

MINIMAL = PERGAI + SHOPIFY + STUDIO


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """Path of a config file inside a fresh folder; tests write its text."""
    return tmp_path / "pergai-sync.toml"
