"""Match records a lost create may have made: the client's look-ups before a resend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

from connectors.pergai.models import Generation, Product, url_filename

Dated = TypeVar("Dated", Product, Generation)

EPOCH = datetime.min.replace(tzinfo=UTC)


def pick_product(products: Sequence[Product], name: str, image_url: str | None) -> Product | None:
    """Return the newest product named ``name``, narrowed by image file name when several match."""
    candidates = [product for product in products if product.name == name]
    wanted = url_filename(image_url)

    if len(candidates) > 1 and wanted:
        by_image = [product for product in candidates if image_matches(product, wanted)]
        candidates = by_image or candidates

    ordered = newest_first(candidates)
    return ordered[0] if ordered else None


def image_matches(product: Product, filename: str) -> bool:
    """True when the product's stored image keeps ``filename`` (PergAI may prefix it)."""
    stored = product.image_filename
    return stored is not None and stored.endswith(filename)


def scene_matches(generation: Generation, scene: str | None) -> bool:
    """True when ``scene`` is None or the generation's scene (or prompt, if no scene) names it."""
    if scene is None:
        return True
    if generation.scene is not None:
        return generation.scene == scene
    return generation.prompt is not None and scene.lower() in generation.prompt.lower()


def newest_first(records: Sequence[Dated]) -> list[Dated]:
    """Sort by ``created_at``, newest first; records without a time keep the API's order, last.

    Among records without a time the API's later entries come first, since
    lists usually grow at the end.
    """
    indexed = list(enumerate(records))
    indexed.sort(key=lambda pair: (as_aware(pair[1].created_at), pair[0]), reverse=True)
    return [record for _, record in indexed]


def as_aware(moment: datetime | None) -> datetime:
    if moment is None:
        return EPOCH
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
