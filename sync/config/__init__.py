"""The merchant's config file: finding, reading and validating `pergai-sync.toml`.

``load_config`` returns typed ``Settings``; every problem in the file is
reported at once as a ``ConfigFileError`` (a ``sync.errors.ConfigError``).
"""

from sync.config.example import DEMO_SECRET_VARS, EXAMPLE_ENV_VARS, demo_config, example_config
from sync.config.fields import parse_duration
from sync.config.filters import Filters
from sync.config.loader import (
    CONFIG_PATH_ENV,
    DEFAULT_CONFIG_FILE,
    load_config,
    parse_config,
    resolve_config_path,
)
from sync.config.outputs import OutputConfig, output_key
from sync.config.problems import ConfigFileError, ConfigProblem
from sync.config.secrets import EnvSecret
from sync.config.settings import (
    DaemonSettings,
    DatabaseSettings,
    PergaiSettings,
    ServerSettings,
    Settings,
)
from sync.config.stores import ShopifyStore, StoreConfig, WooCommerceStore
from sync.config.templates import ALT_TEXT_FIELDS, PRODUCT_FIELDS, product_fields, render_template

__all__ = [
    "ALT_TEXT_FIELDS",
    "CONFIG_PATH_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEMO_SECRET_VARS",
    "EXAMPLE_ENV_VARS",
    "PRODUCT_FIELDS",
    "ConfigFileError",
    "ConfigProblem",
    "DaemonSettings",
    "DatabaseSettings",
    "EnvSecret",
    "Filters",
    "OutputConfig",
    "PergaiSettings",
    "ServerSettings",
    "Settings",
    "ShopifyStore",
    "StoreConfig",
    "WooCommerceStore",
    "demo_config",
    "example_config",
    "load_config",
    "output_key",
    "parse_config",
    "parse_duration",
    "product_fields",
    "render_template",
    "resolve_config_path",
]
