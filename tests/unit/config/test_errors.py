"""Config errors: one line per problem with the file, key path, value given and values allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.config import ConfigFileError, load_config
from sync.errors import ConfigError
from tests.unit.config.conftest import ENV, MINIMAL, PERGAI, SECRET_VALUES, SHOPIFY, STUDIO

ERROR_CASES = [
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\nscen = 'studio'\n",
        [
            "stores[0].outputs[0].scen: unknown key 'scen'; did you mean 'scene'?",
        ],
        id="unknown-key-suggestion",
    ),
    pytest.param(
        MINIMAL + "[daemon]\nfrobnicate = 1\n",
        [
            "daemon.frobnicate: unknown key 'frobnicate'; allowed keys: concurrency_per_store, "
            "drain_interval, inbox_retention, job_check_interval, lease, log_format, "
            "reconcile_interval, retry_base_delay, shutdown_grace",
        ],
        id="unknown-key-allowed-list",
    ),
    pytest.param(
        "stroes = []\n" + MINIMAL,
        ["stroes: unknown key 'stroes'; did you mean 'stores'?"],
        id="unknown-top-level-table",
    ),
    pytest.param(
        MINIMAL.replace('platform = "shopify"', 'platform = "shopfy"'),
        [
            "stores[0].platform: invalid value 'shopfy'; allowed values: 'shopify', "
            "'woocommerce'; did you mean 'shopify'?",
        ],
        id="wrong-platform",
    ),
    pytest.param(
        MINIMAL.replace('platform = "shopify"\n', ""),
        ["stores[0].platform: required key is missing; allowed values: 'shopify', 'woocommerce'"],
        id="missing-platform",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\nscene = 'studio'\ntool = 'remove-bg'\n",
        ["stores[0].outputs[0]: set either scene or tool, not both"],
        id="scene-and-tool",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\nprompt = 'x'\n",
        [
            "stores[0].outputs[0]: set scene (e.g. 'studio') or tool ('remove-bg', "
            "'upscale' or 'expand')",
        ],
        id="neither-scene-nor-tool",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\ntool = 'upscale'\nscale = '3x'\n",
        ["stores[0].outputs[0].scale: invalid value '3x'; allowed values: '1x', '2x', '4x'"],
        id="bad-scale",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\ntool = 'upscale'\n",
        ["stores[0].outputs[0].scale: tool 'upscale' needs scale: one of '1x', '2x', '4x'"],
        id="missing-scale",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\ntool = 'expand'\nratio = '5:4'\n",
        [
            "stores[0].outputs[0].ratio: invalid value '5:4'; allowed values: '1:1', '16:9', "
            "'9:16', '4:3', '3:4'",
        ],
        id="bad-ratio",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\ntool = 'upscal'\n",
        [
            "stores[0].outputs[0].tool: invalid value 'upscal'; allowed values: 'remove-bg', "
            "'upscale', 'expand'; did you mean 'upscale'?",
        ],
        id="bad-tool",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\ntool = 'remove-bg'\nscale = '2x'\n",
        [
            "stores[0].outputs[0].scale: tool 'remove-bg' does not take scale; "
            "it takes no other keys"
        ],
        id="key-for-other-tool",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\nscene = 'studio'\nratio = '1:1'\n",
        ["stores[0].outputs[0].ratio: ratio applies only to tool = 'expand'"],
        id="tool-key-on-scene",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[[stores.outputs]]\nscene = 'studio'\nprompt = 'A {titel} shot'\n",
        [
            "stores[0].outputs[0].prompt: unknown field {titel} in template 'A {titel} shot'; "
            "allowed fields: {category}, {product_type}, {tags}, {title}, {vendor}; "
            "did you mean {title}?",
        ],
        id="bad-template-field",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "alt_text = '{title} {scene'\n" + STUDIO,
        [
            "stores[0].alt_text: invalid template '{title} {scene': expected '}' before end "
            "of string; write {{ or }} for a literal brace",
        ],
        id="unbalanced-template",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "alt_text = '{title.upper}'\n" + STUDIO,
        [
            "stores[0].alt_text: invalid template '{title.upper}': field {title.upper} uses "
            "attribute or index access, which is not supported; allowed fields: {category}, "
            "{output}, {product_type}, {scene}, {tags}, {title}, {vendor}",
        ],
        id="template-attribute-access",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "prompt = 'x'\n" + STUDIO,
        [
            "stores[0].prompt: unknown key 'prompt'; allowed keys: access_token, address, "
            "alt_text, api_version, base_url, category_map, collection, daily_budget, filters, "
            "images, name, outputs, platform, poll_interval, timeout, webhook_secret, write_back",
        ],
        id="output-key-on-store",
    ),
    pytest.param(
        MINIMAL + SHOPIFY + STUDIO,
        [
            "stores[1].name: duplicate store name 'acme': stores[0] already uses it; each "
            "store needs its own name because it appears in webhook URLs",
        ],
        id="duplicate-store-names",
    ),
    pytest.param(
        MINIMAL + STUDIO,
        [
            "stores[0].outputs[1]: duplicate output 'scene:studio': outputs[0] already makes "
            "it; change the scene, aspect_ratio, scale or ratio, or remove one of them",
        ],
        id="duplicate-output-keys",
    ),
    pytest.param(
        PERGAI + SHOPIFY.replace("ACME_TOKEN", "ACME_MISSING_TOKEN") + STUDIO,
        [
            "stores[0].access_token: environment variable ACME_MISSING_TOKEN is not set; "
            "export it before running pergai-sync",
        ],
        id="missing-env-var",
    ),
    pytest.param(
        PERGAI.replace("${PERGAI_API_KEY}", "pk_live_literal_key") + SHOPIFY + STUDIO,
        [
            "pergai.api_key: a secret written in the config file is not allowed (config files "
            "get committed); write a reference such as '${PERGAI_API_KEY}' and set that "
            "environment variable",
        ],
        id="literal-api-key",
    ),
    pytest.param(
        PERGAI + SHOPIFY.replace("${ACME_TOKEN}", "shpat_literal") + STUDIO,
        [
            "stores[0].access_token: a secret written in the config file is not allowed "
            "(config files get committed); write a reference such as '${SHOPIFY_ACCESS_TOKEN}' "
            "and set that environment variable",
        ],
        id="literal-access-token",
    ),
    pytest.param(
        MINIMAL.replace('name = "acme"', 'name = "Acme Store"'),
        [
            "stores[0].name: invalid name 'Acme Store'; use lowercase letters, digits, '-' and "
            "'_', starting with a letter or digit (the name appears in webhook URLs)",
        ],
        id="name-not-slug",
    ),
    pytest.param(
        MINIMAL.replace("acme.myshopify.com", "www.acme.com"),
        [
            "stores[0].address: invalid shop domain 'www.acme.com'; write the store's "
            "myshopify.com domain, e.g. 'acme.myshopify.com'",
        ],
        id="shop-domain",
    ),
    pytest.param(
        MINIMAL + "[server]\nport = '8080'\n",
        ["server.port: expected an integer, got '8080'"],
        id="port-as-string",
    ),
    pytest.param(
        MINIMAL + "[server]\nport = 70000\n",
        ["server.port: invalid value 70000: must be less than or equal to 65535"],
        id="port-out-of-range",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "daily_budget = -1\n" + STUDIO,
        ["stores[0].daily_budget: invalid value -1: must be greater than or equal to 0"],
        id="negative-budget",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "write_back = 'replaced'\n" + STUDIO,
        [
            "stores[0].write_back: invalid value 'replaced'; allowed values: 'add', 'featured', "
            "'replace', 'review'; did you mean 'replace'?",
        ],
        id="bad-write-back",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[stores.filters]\nstatuses = ['publish']\n" + STUDIO,
        [
            "stores[0].filters.statuses[0]: invalid value 'publish' for a shopify store; "
            "allowed values: 'active', 'draft', 'archived', 'unlisted'",
        ],
        id="status-of-other-platform",
    ),
    pytest.param(
        PERGAI + "[pergai_extra]\n" + SHOPIFY + STUDIO,
        ["pergai_extra: unknown key 'pergai_extra'; did you mean 'pergai'?"],
        id="unknown-table",
    ),
    pytest.param(
        SHOPIFY + STUDIO,
        ["pergai: required table is missing"],
        id="missing-pergai-table",
    ),
    pytest.param(
        PERGAI,
        ["stores: required key is missing"],
        id="no-stores",
    ),
    pytest.param(
        PERGAI + SHOPIFY + "[stores.outputs]\nscene = 'studio'\n",
        [
            "stores[0].outputs: expected an array of tables, got a table; write each entry "
            "as [[stores.outputs]]",
        ],
        id="outputs-as-single-table",
    ),
    pytest.param(
        PERGAI + SHOPIFY,
        ["stores[0].outputs: required key is missing"],
        id="store-without-outputs",
    ),
    pytest.param(
        MINIMAL.replace("[pergai]\n", "[pergai]\nbase_url = 'http://pergai.example.com/v1'\n"),
        [
            "pergai.base_url: invalid URL 'http://pergai.example.com/v1': plain http would send "
            "credentials unencrypted; use https (http is accepted only for 127.0.0.1, localhost "
            "and ::1)",
        ],
        id="plain-http-pergai",
    ),
    pytest.param(
        MINIMAL + "[database]\nurl = 'mysql://db.example.com/sync'\n",
        [
            "database.url: unsupported database driver 'mysql'; allowed: sqlite+aiosqlite, "
            "postgresql+asyncpg",
        ],
        id="unsupported-database",
    ),
    pytest.param(
        MINIMAL + "[daemon]\nlease = '2 minutes'\n",
        [
            "daemon.lease: invalid duration '2 minutes'; write seconds (e.g. 90) or a number "
            "with a unit s, m, h or d (e.g. '30s', '15m', '1h30m', '1d')",
        ],
        id="bad-duration",
    ),
    pytest.param(
        PERGAI + SHOPIFY + '[stores.category_map]\n"Giyim > Kapüşonlu" = 7\n' + STUDIO,
        ['stores[0].category_map."Giyim > Kapüşonlu": expected a string, got 7'],
        id="category-map-turkish-key",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_config_error_message(config_file: Path, text: str, expected: list[str]) -> None:
    config_file.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert str(caught.value) == "\n".join(f"{config_file}: {line}" for line in expected)


def test_all_problems_reported_at_once(config_file: Path) -> None:
    text = (
        PERGAI.replace("${PERGAI_API_KEY}", "${NOT_SET_ANYWHERE}")
        + SHOPIFY.replace('platform = "shopify"', 'platform = "shopify"\nwrite_back = "x"')
        + "[[stores.outputs]]\ntool = 'expand'\nratio = '2:1'\n"
        + "[[stores.outputs]]\nscene = 'studio'\n"
        + "[[stores.outputs]]\nscene = 'studio'\n"
        + SHOPIFY
        + STUDIO
    )
    config_file.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    paths = {problem.path for problem in caught.value.problems}
    assert paths == {
        "pergai.api_key",
        "stores[0].write_back",
        "stores[0].outputs[0].ratio",
        "stores[0].outputs[2]",
        "stores[1].name",
    }
    assert len(str(caught.value).splitlines()) == 5


def test_config_error_is_config_error(config_file: Path) -> None:
    config_file.write_text("[pergai\n", encoding="utf-8")

    with pytest.raises(ConfigError):
        load_config(config_file, ENV)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[pergai]\napi_key = \n", "2:11: invalid TOML: Invalid value"),
        (
            '[pergai]\napi_key = "a"\napi_key = "b"\n',
            "3:14: invalid TOML: Cannot overwrite a value",
        ),
        (
            "[pergai\n",
            "1:8: invalid TOML: Expected ']' at the end of a table declaration",
        ),
    ],
)
def test_toml_syntax_error_position(config_file: Path, text: str, expected: str) -> None:
    config_file.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert str(caught.value) == f"{config_file}:{expected}"


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "pergai-sync.toml"

    with pytest.raises(ConfigFileError) as caught:
        load_config(missing, ENV)

    assert str(caught.value) == (
        f"{missing}: config file not found; create one with `pergai-sync init`, or choose "
        "another file with --config or PERGAI_SYNC_CONFIG"
    )


def test_file_not_utf8(config_file: Path) -> None:
    config_file.write_bytes(b"[pergai]\napi_key = '\xff'\n")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert str(caught.value) == (
        f"{config_file}: the config file is not UTF-8 text (invalid byte at offset 20)"
    )


def test_error_hides_literal_secret(config_file: Path) -> None:
    literal = "shpat_literal_value_that_must_not_leak"
    text = PERGAI + SHOPIFY.replace("${ACME_TOKEN}", literal) + STUDIO
    config_file.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert literal not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_error_hides_secret_of_wrong_type(config_file: Path) -> None:
    text = PERGAI + SHOPIFY.replace('"${ACME_TOKEN}"', "123456789") + STUDIO
    config_file.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert "123456789" not in str(caught.value)
    assert str(caught.value) == (
        f"{config_file}: stores[0].access_token: expected a reference to an environment "
        "variable such as '${SHOPIFY_ACCESS_TOKEN}'"
    )


def test_error_hides_resolved_secrets(config_file: Path) -> None:
    # Secrets resolve fine here; another key is wrong, and the message must
    # not carry any resolved value.
    config_file.write_text(MINIMAL + "[server]\nport = 'x'\n", encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    for secret in SECRET_VALUES:
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)


def test_error_hides_database_password(config_file: Path) -> None:
    url = "postgresql+asyncpg://sync:hunter2-password@db.example.com/sync"
    config_file.write_text(MINIMAL + f"[database]\nurl = '{url}'\nextra = 1\n", encoding="utf-8")

    with pytest.raises(ConfigFileError) as caught:
        load_config(config_file, ENV)

    assert "hunter2-password" not in str(caught.value)
