"""The example config of `pergai-sync init` and the demo config both load and stay complete."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from sync.config import (
    DEMO_SECRET_VARS,
    EXAMPLE_ENV_VARS,
    Settings,
    ShopifyStore,
    WooCommerceStore,
    demo_config,
    example_config,
    load_config,
)


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]

    return [model for arg in get_args(annotation) for model in _models(arg)]


def _all_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for child in _models(field.annotation):
            if child not in seen:
                names |= _all_fields(child, seen)

    return names


def test_example_loads(tmp_path: Path) -> None:
    config_file = tmp_path / "pergai-sync.toml"
    config_file.write_text(example_config(), encoding="utf-8")
    env = {name: f"value-of-{name.lower()}" for name in EXAMPLE_ENV_VARS}

    settings = load_config(config_file, env)

    assert [store.platform for store in settings.stores] == ["shopify", "woocommerce"]
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/pergai-sync.sqlite"


def test_example_covers_every_key() -> None:
    text = example_config()
    fields = _all_fields(Settings, set())

    assert {"access_token", "consumer_secret", "scale", "statuses"} <= fields
    for name in sorted(fields):
        assignment = re.search(rf"^(# )?{name} = ", text, re.MULTILINE)
        table = re.search(rf"^\[\[?(stores\.)?{name}\]\]?$", text, re.MULTILINE)
        assert assignment or table, f"example config does not mention {name!r}"


def test_example_comments_every_key() -> None:
    # Each key either has a comment line right above it or repeats a key
    # already explained earlier in the file.
    explained: set[str] = set()
    previous = ""
    for line in example_config().splitlines():
        match = re.match(r"^([a-z_]+) = ", line)
        if match:
            key = match.group(1)
            assert previous.startswith("#") or key in explained, f"{key!r} has no comment"
            explained.add(key)
        previous = line


def test_example_union_of_platform_keys() -> None:
    platform_only = (set(ShopifyStore.model_fields) ^ set(WooCommerceStore.model_fields)) - {
        "platform"
    }

    assert platform_only == {
        "access_token",
        "api_version",
        "base_url",
        "consumer_key",
        "consumer_secret",
        "query_string_auth",
    }


def test_demo_config_points_at_loopback(tmp_path: Path) -> None:
    config_file = tmp_path / "pergai-sync.toml"
    text = demo_config(
        pergai_url="http://127.0.0.1:8701/api/external/v1",
        shopify_url="http://127.0.0.1:8702",
        woocommerce_url="http://127.0.0.1:8703",
        server_port=8704,
    )
    config_file.write_text(text, encoding="utf-8")
    env = {name: f"demo-{name.lower()}" for name in DEMO_SECRET_VARS.values()}

    settings = load_config(config_file, env)

    assert settings.pergai.base_url == "http://127.0.0.1:8701/api/external/v1"
    assert settings.server.port == 8704
    assert [store.api_url for store in settings.stores] == [
        "http://127.0.0.1:8702",
        "http://127.0.0.1:8703",
    ]
    assert settings.stores[0].address == "demo.myshopify.com"
    assert settings.database.url.endswith(f"{tmp_path.resolve()}/pergai-sync.sqlite")


def test_demo_config_store_subset(tmp_path: Path) -> None:
    config_file = tmp_path / "demo.toml"
    text = demo_config(
        pergai_url="http://127.0.0.1:8701",
        woocommerce_url="http://127.0.0.1:8703",
        database_url="sqlite+aiosqlite:///demo.sqlite",
    )
    config_file.write_text(text, encoding="utf-8")
    env = dict.fromkeys(DEMO_SECRET_VARS.values(), "x")

    settings = load_config(config_file, env)

    assert [store.name for store in settings.stores] == ["demo-woocommerce"]
    assert settings.database.url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/demo.sqlite"
