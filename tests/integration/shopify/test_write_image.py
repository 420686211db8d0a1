"""Image writes through the Files API: READY, FAILED then staged, featured, replace, revert."""

from __future__ import annotations

import pytest
from PIL import Image

from connectors.base import ImageWrite, WriteMode, marker_filename
from simulators.catalogue import SeedImage, SeedProduct, SeedVariant
from simulators.images import encode
from sync.errors import ImageError

from .conftest import GENERATION, ImageHost, Shop, png


def seed_one(shop: Shop) -> str:
    product = shop.state.load_seed(
        [
            SeedProduct(
                title="Çanta ☀",
                images=[SeedImage("bag-front.jpg", "front"), SeedImage("bag-side.jpg", "side")],
                variants=[SeedVariant("Red"), SeedVariant("Blue")],
            )
        ]
    )[0]
    return product.gid


def request(
    product_id: str, url: str, mode: WriteMode = WriteMode.ADD, variant: str | None = None
) -> ImageWrite:
    return ImageWrite(
        product_id=product_id,
        url=url,
        filename=marker_filename(GENERATION),
        alt="Bag on a beach",
        mode=mode,
        variant_id=variant,
    )


async def test_write_add_ready(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    url = image_host.add("r1.png", png())

    result = await shop.connector.write_image(request(product_id, url))

    assert result.image.generation_id == GENERATION
    assert not result.already_present
    item = await shop.connector.get_product(product_id)
    assert item is not None
    assert [i.ours for i in item.images] == [False, False, True]
    assert item.images[2].url.endswith(marker_filename(GENERATION))
    assert item.source_image is not None and item.source_image.url.endswith("bag-front.jpg")


async def test_write_again_is_already_present(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    url = image_host.add("r1.png", png())
    first = await shop.connector.write_image(request(product_id, url))

    second = await shop.connector.write_image(request(product_id, url))

    assert second.already_present
    assert second.image.id == first.image.id
    item = await shop.connector.get_product(product_id)
    assert item is not None and len(item.images) == 3


async def test_write_sees_ours_past_first_page(shop: Shop, image_host: ImageHost) -> None:
    product = shop.state.load_seed(
        [SeedProduct(title="Many photos", images=[SeedImage(f"p{n}.jpg") for n in range(60)])]
    )[0]
    url = image_host.add("r1.png", png())
    first = await shop.connector.write_image(request(product.gid, url))
    requests_before = shop.state.counters.get("ok", 0)

    second = await shop.connector.write_image(request(product.gid, url))

    # Our image is the 61st, on the second page of media.
    assert second.already_present
    assert second.image.id == first.image.id
    assert shop.state.counters.get("ok", 0) - requests_before == 2


async def test_write_failed_retries_staged(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    url = image_host.add("r1.png", png())
    shop.state.settings.media_failures = 1

    result = await shop.connector.write_image(request(product_id, url))

    assert result.image.generation_id == GENERATION
    assert shop.state.staged.files, "the retry should upload the bytes to a staged target"
    names = [m.filename for m in shop.state.catalogue.media.values()]
    assert names.count(marker_filename(GENERATION)) == 1


async def test_write_failed_twice_names_code(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    url = image_host.add("r1.png", png())
    shop.state.settings.media_failures = 2

    with pytest.raises(ImageError, match="IMAGE_DOWNLOAD_FAILURE"):
        await shop.connector.write_image(request(product_id, url))


async def test_write_featured_moves_first(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    url = image_host.add("r1.png", png())

    await shop.connector.write_image(request(product_id, url, WriteMode.FEATURED))

    item = await shop.connector.get_product(product_id)
    assert item is not None
    assert item.images[0].ours
    assert len(item.images) == 3


async def test_replace_then_revert(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    before = await shop.connector.get_product(product_id)
    assert before is not None
    url = image_host.add("r1.png", png())

    result = await shop.connector.write_image(request(product_id, url, WriteMode.REPLACE))

    assert set(result.detached_ids) == {i.id for i in before.images}
    replaced = await shop.connector.get_product(product_id)
    assert replaced is not None
    assert [i.ours for i in replaced.images] == [True]

    await shop.connector.revert(product_id, (result.image.id,), result.detached_ids)

    reverted = await shop.connector.get_product(product_id)
    assert reverted is not None
    assert [i.id for i in reverted.images] == [i.id for i in before.images]


async def test_write_variant_image(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    item = await shop.connector.get_product(product_id)
    assert item is not None
    variant_id = item.variants[1].id
    url = image_host.add("r1.png", png())

    await shop.connector.write_image(request(product_id, url, variant=variant_id))

    after = await shop.connector.get_product(product_id)
    assert after is not None
    variant = next(v for v in after.variants if v.id == variant_id)
    assert variant.image is not None and variant.image.generation_id == GENERATION


async def test_over_20_megapixels_refused(shop: Shop, image_host: ImageHost) -> None:
    product_id = seed_one(shop)
    big = encode(Image.new("L", (4000, 5001)), "PNG")
    url = image_host.add("big.png", big)

    with pytest.raises(ImageError, match="20 megapixels"):
        await shop.connector.write_image(request(product_id, url))

    assert not any(
        m.filename == marker_filename(GENERATION) for m in shop.state.catalogue.media.values()
    )
