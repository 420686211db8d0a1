"""Loading a valid config: typed values, defaults, durations, paths and secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from connectors.base import WriteMode
from sync.config import (
    CONFIG_PATH_ENV,
    ConfigFileError,
    EnvSecret,
    ShopifyStore,
    WooCommerceStore,
    load_config,
    parse_duration,
    resolve_config_path,
)
from sync.errors import ConfigError
from tests.unit.config.conftest import (
    ENV,
    MINIMAL,
    PERGAI,
    PERGAI_KEY,
    SECRET_VALUES,
    SHOPIFY,
    SHOPIFY_TOKEN,
    STUDIO,
    WC_KEY,
    WC_SECRET,
    WEBHOOK_SECRET,
    WOOCOMMERCE,
)

FULL = f"""\
[pergai]
api_key = "${{PERGAI_API_KEY}}"
base_url = "https://pergai.example.com/api/external/v1/"
ai_provider = "nano-banana-pro"
aspect_ratio = "4:5"
timeout = "90s"
max_concurrency = 8
create_categories = true
delete_products_on_store_delete = true

[database]
url = "sqlite+aiosqlite:///data/sync.sqlite"

[server]
host = "0.0.0.0"
port = 9090
public_url = "https://sync.example.com/"
max_body_bytes = 1048576

[daemon]
drain_interval = 2
job_check_interval = "30s"
reconcile_interval = "12h"
inbox_retention = "3d"
lease = "1m30s"
concurrency_per_store = 3
shutdown_grace = 10.5
log_format = "json"

{SHOPIFY}webhook_secret = "${{ACME_WEBHOOK_SECRET}}"
api_version = "2025-04"
poll_interval = "15m"
images = "variants"
write_back = "replace"
alt_text = "{{title}} - {{output}}"
daily_budget = 0
collection = ""

[stores.filters]
statuses = ["ACTIVE", "draft"]
product_types = ["Hoodie"]
categories = ["Clothing>Hoodies"]
tags_include = ["ai"]
tags_exclude = ["no-ai"]
require_images = false

[[stores.outputs]]
scene = "studio"
prompt = "{{title}} by {{vendor}}"

[[stores.outputs]]
scene = "studio"
aspect_ratio = "16:9"
ai_provider = "other-model"

[[stores.outputs]]
tool = "upscale"
scale = "4x"

[[stores.outputs]]
tool = "expand"
ratio = "9:16"
prompt = "more {{category}}"

{WOOCOMMERCE}query_string_auth = true
write_back = "review"

[[stores.outputs]]
tool = "remove-bg"
"""


def test_full_config_values(config_file: Path) -> None:
    config_file.write_text(FULL, encoding="utf-8")

    settings = load_config(config_file, ENV)

    assert settings.path == config_file
    assert settings.pergai.api_key.get_secret_value() == PERGAI_KEY
    assert settings.pergai.base_url == "https://pergai.example.com/api/external/v1"
    assert settings.pergai.timeout == 90.0
    assert settings.pergai.max_concurrency == 8
    assert settings.pergai.create_categories is True
    assert settings.pergai.delete_products_on_store_delete is True
    assert settings.database.url == f"sqlite+aiosqlite:///{config_file.parent}/data/sync.sqlite"
    assert settings.server.host == "0.0.0.0"
    assert settings.server.port == 9090
    assert settings.server.max_body_bytes == 1048576
    assert settings.server.webhook_url("shopify", "acme") == (
        "https://sync.example.com/webhooks/shopify/acme"
    )
    assert settings.daemon.drain_interval == 2.0
    assert settings.daemon.job_check_interval == 30.0
    assert settings.daemon.reconcile_interval == 43200.0
    assert settings.daemon.inbox_retention == 3 * 86400.0
    assert settings.daemon.lease == 90.0
    assert settings.daemon.concurrency_per_store == 3
    assert settings.daemon.shutdown_grace == 10.5
    assert settings.daemon.log_format == "json"


def test_full_config_stores(config_file: Path) -> None:
    config_file.write_text(FULL, encoding="utf-8")

    shopify, woocommerce = load_config(config_file, ENV).stores

    assert isinstance(shopify, ShopifyStore)
    assert shopify.access_token.get_secret_value() == SHOPIFY_TOKEN
    assert shopify.webhook_secret is not None
    assert shopify.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    assert shopify.webhook_secret.variable == "ACME_WEBHOOK_SECRET"
    assert shopify.api_version == "2025-04"
    assert shopify.api_url == "https://acme.myshopify.com"
    assert shopify.poll_interval == 900.0
    assert shopify.images == "variants"
    assert shopify.write_mode is WriteMode.REPLACE
    assert shopify.daily_budget == 0
    assert shopify.collection is None
    assert shopify.filters.statuses == ["active", "draft"]
    assert shopify.filters.categories == ["Clothing > Hoodies"]
    assert shopify.filters.require_images is False
    assert [output.key for output in shopify.outputs] == [
        "scene:studio",
        "scene:studio:16:9",
        "tool:upscale:4x",
        "tool:expand:9:16",
    ]

    assert isinstance(woocommerce, WooCommerceStore)
    assert woocommerce.consumer_key.get_secret_value() == WC_KEY
    assert woocommerce.consumer_secret.get_secret_value() == WC_SECRET
    assert woocommerce.query_string_auth is True
    assert woocommerce.write_mode is None
    assert woocommerce.api_url == "https://atolye.example.com"


def test_scene_outputs_take_pergai_defaults(config_file: Path) -> None:
    config_file.write_text(FULL, encoding="utf-8")

    outputs = load_config(config_file, ENV).stores[0].outputs

    assert (outputs[0].ai_provider, outputs[0].aspect_ratio) == ("nano-banana-pro", "4:5")
    assert (outputs[1].ai_provider, outputs[1].aspect_ratio) == ("other-model", "16:9")
    assert outputs[2].ai_provider is None
    assert outputs[2].aspect_ratio is None


def test_minimal_config_defaults(config_file: Path) -> None:
    config_file.write_text(MINIMAL, encoding="utf-8")

    settings = load_config(config_file, ENV)
    store = settings.stores[0]

    assert settings.pergai.base_url == "https://pergai.com/api/external/v1"
    assert settings.pergai.ai_provider is None
    assert settings.pergai.create_categories is False
    assert settings.database.url == (
        f"sqlite+aiosqlite:///{config_file.parent.resolve()}/pergai-sync.sqlite"
    )
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8080
    assert settings.server.public_url is None
    assert settings.server.webhook_url("shopify", "acme") is None
    assert settings.server.max_body_bytes == 5 * 1024 * 1024
    assert settings.daemon.reconcile_interval == 86400.0
    assert settings.daemon.log_format == "text"
    assert store.api_version == "2025-01"
    assert store.webhook_secret is None
    assert store.poll_interval == 900.0
    assert store.images == "featured"
    assert store.write_mode is WriteMode.ADD
    assert store.daily_budget is None
    assert store.collection == "pergai-sync acme"
    assert store.filters.statuses == ["active"]
    assert store.filters.require_images is True
    assert store.outputs[0].render_alt({"title": "Hoodie"}) == "Hoodie"


def test_woocommerce_default_status(config_file: Path) -> None:
    config_file.write_text(PERGAI + WOOCOMMERCE + STUDIO, encoding="utf-8")

    store = load_config(config_file, ENV).stores[0]

    assert store.filters.statuses == ["publish"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("30s", 30.0),
        ("15m", 900.0),
        ("1h30m", 5400.0),
        ("1d", 86400.0),
        ("0.5h", 1800.0),
        (" 2H ", 7200.0),
        ("1d12h", 129600.0),
    ],
)
def test_duration_parses(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["15x", "", "m", "-5", "1h 30m", "1.h", True, [1]])
def test_duration_rejects_text(value: object) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [0, -5, "0s"])
def test_duration_must_be_positive(value: object) -> None:
    with pytest.raises(ValueError, match="must be greater than 0"):
        parse_duration(value)


def test_poll_interval_accepts_duration_text(config_file: Path) -> None:
    text = PERGAI + SHOPIFY + 'poll_interval = "2h"\n' + STUDIO
    config_file.write_text(text, encoding="utf-8")

    assert load_config(config_file, ENV).stores[0].poll_interval == 7200.0


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("sqlite:///state.sqlite", "sqlite+aiosqlite:///{dir}/state.sqlite"),
        ("sqlite+aiosqlite:////var/lib/sync.sqlite", "sqlite+aiosqlite:////var/lib/sync.sqlite"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://sync@db.internal/sync", "postgresql+asyncpg://sync@db.internal/sync"),
        ("postgres://sync@db.internal/sync", "postgresql+asyncpg://sync@db.internal/sync"),
        ("${SYNC_DATABASE_URL}", "postgresql+asyncpg://sync:pw@db.internal/sync"),
        (
            "postgresql+asyncpg://sync:${SYNC_DB_PASSWORD}@db.internal/sync",
            "postgresql+asyncpg://sync:pw@db.internal/sync",
        ),
    ],
)
def test_database_url_normalized(config_file: Path, written: str, expected: str) -> None:
    config_file.write_text(MINIMAL + f"[database]\nurl = '{written}'\n", encoding="utf-8")
    env = {
        **ENV,
        "SYNC_DATABASE_URL": "postgresql://sync:pw@db.internal/sync",
        "SYNC_DB_PASSWORD": "pw",
    }

    settings = load_config(config_file, env)

    assert settings.database.url == expected.format(dir=config_file.parent.resolve())


def test_database_password_hidden(config_file: Path) -> None:
    url = "postgresql+asyncpg://sync:hunter2-password@db.internal/sync"
    config_file.write_text(MINIMAL + f"[database]\nurl = '{url}'\n", encoding="utf-8")

    settings = load_config(config_file, ENV)

    assert settings.database.url == url
    assert settings.database.display_url == "postgresql+asyncpg://sync:***@db.internal/sync"
    assert "hunter2-password" not in repr(settings)


def test_database_env_reference_missing(config_file: Path) -> None:
    config_file.write_text(MINIMAL + "[database]\nurl = '${NO_SUCH_URL}'\n", encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert str(caught.value) == (
        f"{config_file}: database.url: environment variable NO_SUCH_URL is not set; "
        "export it before running pergai-sync"
    )


def test_secrets_never_in_repr_or_dump(config_file: Path) -> None:
    config_file.write_text(FULL, encoding="utf-8")

    settings = load_config(config_file, ENV)

    renderings = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
    ]
    for text in renderings:
        for secret in SECRET_VALUES:
            assert secret not in text
    assert isinstance(settings.pergai.api_key, EnvSecret)
    assert repr(settings.pergai.api_key) == "EnvSecret('**********')"


def test_secrets_never_logged(config_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    config_file.write_text(FULL, encoding="utf-8")

    with caplog.at_level(logging.DEBUG):
        load_config(config_file, ENV)

    assert [record.action for record in caplog.records] == ["config_loaded"]  # type: ignore[attr-defined]
    for secret in SECRET_VALUES:
        assert secret not in caplog.text


def test_empty_env_var_rejected(config_file: Path) -> None:
    config_file.write_text(MINIMAL, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, {**ENV, "ACME_TOKEN": "  "})

    assert str(caught.value) == (
        f"{config_file}: stores[0].access_token: environment variable ACME_TOKEN is empty; "
        "set it to the secret"
    )


def test_turkish_and_emoji_round_trip(config_file: Path) -> None:
    text = (
        PERGAI
        + WOOCOMMERCE
        + 'alt_text = "{title} – {category} 📸 İğüşöçı"\n'
        + "[stores.category_map]\n"
        + '"Giyim > Kapüşonlu" = "Kapüşonlu Sweatshirt"\n'
        + '"Ev & Yaşam>Mutfak 🍳" = "Mutfak"\n'
        + "[stores.filters]\n"
        + 'categories = ["Giyim > Kapüşonlu"]\n'
        + 'tags_include = ["yeni ürün ✨"]\n'
        + STUDIO
    )
    config_file.write_text(text, encoding="utf-8")

    store = load_config(config_file, ENV).stores[0]

    assert store.category_map == {
        "Giyim > Kapüşonlu": "Kapüşonlu Sweatshirt",
        "Ev & Yaşam > Mutfak 🍳": "Mutfak",
    }
    assert store.pergai_category_for("Giyim > Kapüşonlu > Fermuarlı") == "Kapüşonlu Sweatshirt"
    assert store.pergai_category_for("Ev & Yaşam > Mutfak 🍳") == "Mutfak"
    assert store.pergai_category_for("Ayakkabı") is None
    assert store.filters.tags_include == ["yeni ürün ✨"]
    fields = {"title": "Şık Kapüşonlu 🧥", "category": "Giyim > Kapüşonlu"}
    assert store.outputs[0].render_alt(fields) == (
        "Şık Kapüşonlu 🧥 – Giyim > Kapüşonlu 📸 İğüşöçı"
    )


def test_loopback_urls_for_simulators(config_file: Path) -> None:
    text = (
        PERGAI
        + 'base_url = "http://127.0.0.1:8701/api/external/v1"\n'
        + SHOPIFY
        + 'base_url = "http://127.0.0.1:8702"\n'
        + STUDIO
        + WOOCOMMERCE.replace("https://atolye.example.com", "http://127.0.0.1:8703/")
        + STUDIO
    )
    config_file.write_text(text, encoding="utf-8")

    settings = load_config(config_file, ENV)

    assert settings.pergai.base_url == "http://127.0.0.1:8701/api/external/v1"
    assert settings.stores[0].api_url == "http://127.0.0.1:8702"
    assert settings.stores[1].api_url == "http://127.0.0.1:8703"


def test_shopify_address_forms(config_file: Path) -> None:
    for written in ("acme", "https://ACME.myshopify.com/", "acme.myshopify.com"):
        config_file.write_text(MINIMAL.replace("acme.myshopify.com", written), encoding="utf-8")

        store = load_config(config_file, ENV).stores[0]

        assert store.address == "acme.myshopify.com", written


def test_store_lookup_by_name(config_file: Path) -> None:
    config_file.write_text(MINIMAL + WOOCOMMERCE + STUDIO, encoding="utf-8")
    settings = load_config(config_file, ENV)

    assert settings.store("atolye").platform == "woocommerce"
    with pytest.raises(ConfigError, match=r"no store named 'acm'.*did you mean 'acme'\?"):
        settings.store("acm")


def test_resolve_path_order(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {CONFIG_PATH_ENV: "/etc/pergai/sync.toml"}

    assert resolve_config_path("custom.toml", env) == Path("custom.toml")
    assert resolve_config_path(None, env) == Path("/etc/pergai/sync.toml")
    assert resolve_config_path(None, {}) == Path("pergai-sync.toml")

    monkeypatch.setenv(CONFIG_PATH_ENV, "/srv/from-process-env.toml")
    assert resolve_config_path(None) == Path("/srv/from-process-env.toml")


def test_load_reads_process_environment(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config_file.write_text(MINIMAL, encoding="utf-8")

    settings = load_config(config_file)

    assert settings.pergai.api_key.get_secret_value() == PERGAI_KEY
