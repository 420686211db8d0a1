"""The ``images`` (product) and ``image`` (variation) fields of a write.

Every element with an ``id`` keeps that attachment; every element with only
a ``src`` is downloaded into a NEW attachment. ``name`` and ``alt`` update the
attachment. All downloads run before anything is stored, so an image failure
leaves the product and the media library as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulators.woocommerce.routing import ApiError, Ctx
from simulators.woocommerce.sideload import Download, UploadError, download_image
from simulators.woocommerce.state import WooState


@dataclass
class ImageEntry:
    attachment_id: int | None
    download: Download | None
    name: str | None
    alt: str | None


@dataclass
class ImagePlan:
    entries: list[ImageEntry] = field(default_factory=list)


def invalid_image_id(image_id: Any) -> ApiError:
    return ApiError(
        "woocommerce_product_invalid_image_id", f"#{image_id} is an invalid image ID.", 400
    )


async def plan_images(ctx: Ctx, elements: list[dict[str, Any]]) -> ImagePlan:
    """Check ids and download every ``src``; raise the store's 400 on the first failure."""
    plan = ImagePlan()
    for element in elements:
        plan.entries.append(await _plan_one(ctx, element))
    return plan


async def _plan_one(ctx: Ctx, element: dict[str, Any]) -> ImageEntry:
    name = element.get("name") if isinstance(element.get("name"), str) else None
    alt = element.get("alt") if isinstance(element.get("alt"), str) else None
    image_id = element.get("id")
    if image_id:
        if not isinstance(image_id, int) or image_id not in ctx.state.media:
            raise invalid_image_id(image_id)
        return ImageEntry(image_id, None, name, alt)

    src = element.get("src")
    if not isinstance(src, str) or not src:
        raise invalid_image_id(0)
    try:
        download = await download_image(ctx.state, ctx.session, src)
    except UploadError as error:
        raise ApiError("woocommerce_product_image_upload_error", str(error), 400) from error
    return ImageEntry(None, download, name, alt)


def commit_images(state: WooState, plan: ImagePlan, parent_id: int) -> list[int]:
    """Store the downloads as attachments, apply names and alts; return the ids in order."""
    ids: list[int] = []
    for entry in plan.entries:
        if entry.download is not None:
            attachment = state.add_attachment(
                entry.download.filename,
                data=entry.download.data,
                name=entry.name,
                alt=entry.alt or "",
                parent_id=parent_id,
            )
        else:
            assert entry.attachment_id is not None
            attachment = state.media[entry.attachment_id]
            if entry.name is not None:
                attachment.name = entry.name
            if entry.alt is not None:
                attachment.alt = entry.alt
        ids.append(attachment.id)
    return ids
