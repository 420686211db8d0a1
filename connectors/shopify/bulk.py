"""Read a bulk operation's JSONL result and join products with their media and variants.

A child line (``__parentId``) may come anywhere after its parent, so no product
is complete before the file ends. The download is streamed to a temporary
file, a first pass records byte offsets (parents in order, children by parent
id), and a second pass reads each product with its children from the file.
NOTE: memory grows with the number of lines (one offset each, roughly 100
bytes with its dict entry), not with their content: about 50 MB for a
500,000-line export.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from connectors.base import CatalogueItem
from connectors.shopify.records import item_from_node

MEDIA_PREFIX = "gid://shopify/MediaImage/"
VARIANT_PREFIX = "gid://shopify/ProductVariant/"


class BulkFile:
    """The downloaded JSONL file and its offset index."""

    def __init__(self, directory: str | None = None) -> None:
        self.handle: IO[bytes] = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115
        self.parents: list[int] = []
        self.children: dict[str, list[int]] = {}

    def write(self, chunk: bytes) -> None:
        self.handle.write(chunk)

    def index(self) -> None:
        """First pass: note where each parent and each child line starts."""
        self.handle.seek(0)
        offset = 0
        for line in self.handle:
            if line.strip():
                parent = parent_id(line)
                if parent is None:
                    self.parents.append(offset)
                else:
                    self.children.setdefault(parent, []).append(offset)
            offset += len(line)

    def items(self, start: int, stop: int) -> list[CatalogueItem]:
        """Second pass over parents ``start:stop``: read each with its children."""
        return [self.item_at(offset) for offset in self.parents[start:stop]]

    def item_at(self, offset: int) -> CatalogueItem:
        node = self.read(offset)
        media: list[dict[str, Any]] = []
        variants: list[dict[str, Any]] = []
        for child_offset in self.children.get(str(node["id"]), ()):
            child = self.read(child_offset)
            child_id = str(child.get("id", ""))
            if child_id.startswith(VARIANT_PREFIX):
                variants.append(child)
            elif child_id.startswith(MEDIA_PREFIX) or "mediaContentType" in child:
                media.append(child)
        # NOTE: a bulk file gives no media order; only the featured image is put first.
        featured = (node.get("featuredMedia") or {}).get("id")
        media.sort(key=lambda m: m.get("id") != featured)
        return item_from_node(node, media=media, variants=variants)

    def read(self, offset: int) -> dict[str, Any]:
        self.handle.seek(offset)
        value: dict[str, Any] = json.loads(self.handle.readline())
        return value

    def close(self) -> None:
        self.handle.close()


def parent_id(line: bytes) -> str | None:
    """Return ``__parentId`` of a line without parsing lines that have none."""
    if b'"__parentId"' not in line:
        return None
    value = json.loads(line).get("__parentId")
    return str(value) if value is not None else None


def batches(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(total, start + size)


def temporary_directory() -> Path:
    return Path(tempfile.gettempdir())
