"""A `[[stores]]` table: one Shopify or WooCommerce store and what to make for it.

The `platform` key selects the model, so a key that belongs to the other
platform (`consumer_key` on a Shopify store) is reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, field_validator, model_validator

from connectors.base import WriteMode
from sync.config.fields import (
    ConfigModel,
    Duration,
    LocatedProblem,
    SecureUrl,
    Slug,
    check_http_url,
    invalid,
    invalid_many,
    show,
)
from sync.config.filters import Filters, category_path_within, normalize_category_path
from sync.config.outputs import DEFAULT_ALT_TEXT, OutputConfig
from sync.config.secrets import SecretRef
from sync.config.templates import AltTextTemplate

DEFAULT_SHOPIFY_API_VERSION = "2025-01"

# Product statuses each platform reports (lowercase); the first is the default filter.
PLATFORM_STATUSES: dict[str, tuple[str, ...]] = {
    "shopify": ("active", "draft", "archived", "unlisted"),
    "woocommerce": ("publish", "draft", "pending", "private", "future"),
}

_SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_API_VERSION = re.compile(r"[0-9]{4}-(01|04|07|10)|unstable")

WriteBack = Literal["add", "featured", "replace", "review"]


def find_duplicates(values: Iterable[object]) -> list[tuple[int, int]]:
    """Return (index, index of its first occurrence) for each repeated value."""
    first_seen: dict[object, int] = {}
    duplicates: list[tuple[int, int]] = []
    for index, value in enumerate(values):
        if value in first_seen:
            duplicates.append((index, first_seen[value]))
        else:
            first_seen[value] = index

    return duplicates


def duplicate_output_problems(keys: Sequence[object]) -> list[LocatedProblem]:
    """Return one problem per output whose key an earlier output of the store already has."""
    return [
        (
            ("outputs", index),
            f"duplicate output {keys[index]!r}: outputs[{first}] already makes it; "
            "change the scene, aspect_ratio, scale or ratio, or remove one of them",
        )
        for index, first in find_duplicates(keys)
    ]


def _normalize_category_map(mapping: dict[str, str]) -> dict[str, str]:
    normalized: dict[str, str] = {}
    for path, target in mapping.items():
        if not target.strip():
            raise invalid(f"category {path!r} maps to ''; give a PergAI category name or id")

        normalized[normalize_category_path(path)] = target.strip()

    return normalized


class StoreBase(ConfigModel):
    """The keys every platform shares."""

    name: Slug
    address: str
    webhook_secret: SecretRef | None = None
    poll_interval: Duration = 900.0
    timeout: Duration = 60.0
    filters: Filters = Field(default_factory=Filters)
    outputs: list[OutputConfig]
    images: Literal["featured", "variants"] = "featured"
    write_back: WriteBack = "add"
    alt_text: AltTextTemplate = DEFAULT_ALT_TEXT
    daily_budget: int | None = Field(default=None, ge=0)
    category_map: Annotated[dict[str, str], AfterValidator(_normalize_category_map)] = Field(
        default_factory=dict
    )
    collection: str | None = None

    @field_validator("outputs")
    @classmethod
    def _require_outputs(cls, outputs: list[OutputConfig]) -> list[OutputConfig]:
        if not outputs:
            raise invalid("no outputs; add at least one [[stores.outputs]] table")

        return outputs

    @model_validator(mode="after")
    def _complete(self) -> Self:
        problems = self._status_problems()
        problems += duplicate_output_problems([output.key for output in self.outputs])
        if problems:
            raise invalid_many(problems)

        for output in self.outputs:
            output._alt_text = self.alt_text

        if self.collection is None:
            self.collection = f"pergai-sync {self.name}"
        elif not self.collection.strip():
            self.collection = None

        return self

    def _status_problems(self) -> list[LocatedProblem]:
        platform = str(getattr(self, "platform", ""))
        allowed = PLATFORM_STATUSES.get(platform, ())
        if self.filters.statuses is None:
            self.filters.statuses = list(allowed[:1])
            return []

        problems: list[LocatedProblem] = []
        for index, status in enumerate(self.filters.statuses):
            if status.lower() not in allowed:
                allowed_text = ", ".join(repr(value) for value in allowed)
                problems.append(
                    (
                        ("filters", "statuses", index),
                        f"invalid value {show(status)} for a {platform} store; "
                        f"allowed values: {allowed_text}",
                    )
                )

        self.filters.statuses = [status.lower() for status in self.filters.statuses]
        return problems

    @property
    def write_mode(self) -> WriteMode | None:
        """The connector's write mode, or None for `review` (images are kept, not written)."""
        return None if self.write_back == "review" else WriteMode(self.write_back)

    def pergai_category_for(self, category_path: str) -> str | None:
        """Return the PergAI category that `category_map` gives for a store category.

        The most specific entry wins: 'Clothing > Hoodies' before 'Clothing'.
        """
        matches = [path for path in self.category_map if category_path_within(category_path, path)]
        if not matches:
            return None

        return self.category_map[max(matches, key=len)]


class ShopifyStore(StoreBase):
    """A Shopify store reached through the GraphQL Admin API."""

    platform: Literal["shopify"]
    access_token: SecretRef
    api_version: str = DEFAULT_SHOPIFY_API_VERSION
    # Origin that replaces https://<address> for Admin API calls (local simulators).
    base_url: SecureUrl | None = None

    @field_validator("address")
    @classmethod
    def _normalize_shop_domain(cls, address: str) -> str:
        text = address.strip().lower()
        domain = urlsplit(text).hostname if "://" in text else text.rstrip("/")
        if domain and "." not in domain:
            domain += ".myshopify.com"

        if not domain or not _SHOP_DOMAIN.fullmatch(domain):
            raise invalid(
                f"invalid shop domain {show(address)}; write the store's myshopify.com domain, "
                "e.g. 'acme.myshopify.com'"
            )

        return domain

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, version: str) -> str:
        if not _API_VERSION.fullmatch(version):
            raise invalid(
                f"invalid API version {show(version)}; write YYYY-MM with a quarterly month "
                f"(01, 04, 07, 10), e.g. '{DEFAULT_SHOPIFY_API_VERSION}'"
            )

        return version

    @property
    def api_url(self) -> str:
        """Origin of the Admin API: the base_url override or https://<shop domain>."""
        return self.base_url or f"https://{self.address}"


class WooCommerceStore(StoreBase):
    """A WooCommerce store reached through its REST API (wc/v3)."""

    platform: Literal["woocommerce"]
    consumer_key: SecretRef
    consumer_secret: SecretRef
    # Send the key pair in the query string instead of HTTP Basic auth (HTTPS only).
    query_string_auth: bool = False

    @field_validator("address")
    @classmethod
    def _check_site_url(cls, address: str) -> str:
        # Plain http is allowed: WooCommerce signs such requests with OAuth 1.0a.
        return check_http_url(address.strip(), https_unless_loopback=False)

    @property
    def api_url(self) -> str:
        """Site URL the REST API lives under."""
        return self.address


StoreConfig = Annotated[ShopifyStore | WooCommerceStore, Field(discriminator="platform")]
