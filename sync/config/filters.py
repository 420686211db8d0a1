"""Product selection for PergAI images: the `[stores.filters]` table.

Every filter that is set must match (they combine with AND); a list left
empty does not filter. Names compare without case or accents, with Turkish
dotted and dotless i folded together (`sync.categories.fold`), and a
category filter matches its own category and every category below it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from connectors.base import CatalogueItem
from sync.categories import fold
from sync.config.fields import ConfigModel, invalid, show

CATEGORY_SEPARATOR = " > "


def normalize_category_path(path: str) -> str:
    """Return ``path`` with single spaces around each '>', raising on an empty level."""
    levels = [level.strip() for level in path.split(">")]
    if not all(levels):
        raise invalid(
            f"invalid category path {show(path)}; write levels from the root separated by '>', "
            "e.g. 'Clothing > Hoodies'"
        )

    return CATEGORY_SEPARATOR.join(levels)


def _normalize_paths(paths: list[str]) -> list[str]:
    return [normalize_category_path(path) for path in paths]


def category_path_within(path: str, ancestor: str) -> bool:
    """Return whether ``path`` is ``ancestor`` or a category below it, compared folded."""
    levels = [fold(level) for level in path.split(">")]
    ancestor_levels = [fold(level) for level in ancestor.split(">")]
    return levels[: len(ancestor_levels)] == ancestor_levels


CategoryPaths = Annotated[list[str], AfterValidator(_normalize_paths)]


class Filters(ConfigModel):
    """Rules that choose the products to process; see the module docstring for how they combine.

    ``statuses`` is filled in per platform when the file leaves it out
    (Shopify: active; WooCommerce: publish), so it is a list after loading.
    """

    statuses: list[str] | None = None
    product_types: list[str] = Field(default_factory=list)
    categories: CategoryPaths = Field(default_factory=list)
    tags_include: list[str] = Field(default_factory=list)
    tags_exclude: list[str] = Field(default_factory=list)
    require_images: bool = True

    def skip_reason(self, item: CatalogueItem) -> str | None:
        """Return why ``item`` is filtered out, or None when it should be processed."""
        for reason in (
            self._status_reason(item),
            self._type_reason(item),
            self._category_reason(item),
            self._tag_reason(item),
        ):
            if reason:
                return reason

        if self.require_images and item.source_image is None:
            return "the product has no image to use as a reference"

        return None

    def _status_reason(self, item: CatalogueItem) -> str | None:
        statuses = {fold(status) for status in self.statuses or ()}
        if statuses and fold(item.status) not in statuses:
            return f"status {item.status!r} is not one of {sorted(statuses)}"

        return None

    def _type_reason(self, item: CatalogueItem) -> str | None:
        wanted = {fold(product_type) for product_type in self.product_types}
        if wanted and fold(item.product_type or "") not in wanted:
            return f"product type {item.product_type!r} is not one of {self.product_types}"

        return None

    def _category_reason(self, item: CatalogueItem) -> str | None:
        path = item.category_path
        if self.categories and not any(
            path and category_path_within(path, category) for category in self.categories
        ):
            return f"category {path!r} is not within {self.categories}"

        return None

    def _tag_reason(self, item: CatalogueItem) -> str | None:
        tags = {fold(tag) for tag in item.tags}
        excluded = [tag for tag in self.tags_exclude if fold(tag) in tags]
        if excluded:
            return f"tagged {excluded[0]!r}, which tags_exclude lists"

        if self.tags_include and not any(fold(tag) in tags for tag in self.tags_include):
            return f"has none of the tags {self.tags_include}"

        return None
