"""Image write-back: add, featured, replace, revert, retried writes and upload errors."""

from __future__ import annotations

import pytest

from connectors.base import ImageWrite, WriteMode, marker_filename
from connectors.woocommerce import ImageUploadError, WooCommerceConnector
from sync.errors import ImageError
from tests.integration.woocommerce.conftest import Origin, Store, make_connector


def hoodie_id(store: Store) -> int:
    return next(p.id for p in store.state.products.values() if p.name == "Hoodie with Logo")


def image_ids(store: Store, product_id: int) -> list[int]:
    return list(store.state.products[product_id].image_ids)


def write_for(origin: Origin, product_id: int, mode: WriteMode, **extra: str) -> ImageWrite:
    url, generation_id = origin.result_url()
    return ImageWrite(
        product_id=str(product_id),
        url=url,
        filename=marker_filename(generation_id),
        alt="Studio shot",
        mode=mode,
        **extra,  # type: ignore[arg-type]
    )


async def test_add_keeps_originals(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = hoodie_id(store)
    before = image_ids(store, product_id)

    result = await connector.write_image(write_for(origin, product_id, WriteMode.ADD))

    after = image_ids(store, product_id)
    assert after[:-1] == before
    assert str(after[-1]) == result.image.id
    assert result.image.ours
    assert result.image.alt == "Studio shot"
    assert result.already_present is False


async def test_featured_puts_ours_first(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = hoodie_id(store)
    before = image_ids(store, product_id)

    result = await connector.write_image(write_for(origin, product_id, WriteMode.FEATURED))

    after = image_ids(store, product_id)
    assert str(after[0]) == result.image.id
    assert after[1:] == before
    assert result.image.position == 0


async def test_replace_then_revert_restores_originals(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = next(p.id for p in store.state.products.values() if p.name == "V-Neck T-Shirt")
    before = image_ids(store, product_id)

    result = await connector.write_image(write_for(origin, product_id, WriteMode.REPLACE))

    assert image_ids(store, product_id) == [int(result.image.id)]
    assert result.detached_ids == tuple(str(i) for i in before)
    assert all(i in store.state.media for i in before)

    await connector.revert(str(product_id), (result.image.id,), result.detached_ids)
    assert image_ids(store, product_id) == before


async def test_variation_image_write(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product = next(p for p in store.state.products.values() if p.type == "variable")
    variation_id = product.variation_ids[1]

    request = write_for(origin, product.id, WriteMode.ADD, variant_id=str(variation_id))
    result = await connector.write_image(request)

    assert store.state.variations[variation_id].image_id == int(result.image.id)
    item = await connector.get_product(str(product.id))
    assert item is not None
    variant = next(v for v in item.variants if v.id == str(variation_id))
    assert variant.image is not None
    assert variant.image.ours


async def test_second_write_finds_existing_image(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = hoodie_id(store)
    request = write_for(origin, product_id, WriteMode.ADD)

    first = await connector.write_image(request)
    second = await connector.write_image(request)

    assert second.already_present is True
    assert second.image.id == first.image.id
    assert len(image_ids(store, product_id)) == 2


async def test_timed_out_write_not_duplicated(store: Store, origin: Origin) -> None:
    product_id = hoodie_id(store)
    media_before = len(store.state.media)
    request = write_for(origin, product_id, WriteMode.ADD)
    # The store takes longer to fetch the image than the client waits for the PUT.
    store.settings.sideload_delay = 0.6
    slow_client = make_connector(store.url, store.settings, timeout=0.4)

    try:
        result = await slow_client.write_image(request)
    finally:
        await slow_client.aclose()

    generation_file = request.url.rsplit("/", 1)[1]
    assert result.already_present is True
    assert len(image_ids(store, product_id)) == 2
    assert len(store.state.media) == media_before + 1
    assert origin.hits[f"/results/{generation_file}"] == 1


async def test_upload_error_names_reason(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = hoodie_id(store)
    before = image_ids(store, product_id)
    request = write_for(origin, product_id, WriteMode.ADD)
    bad = ImageWrite(request.product_id, f"{origin.url}/fake/x.jpg", request.filename, request.alt)

    with pytest.raises(ImageUploadError) as raised:
        await connector.write_image(bad)

    assert "Invalid image: Sorry, you are not allowed to upload this file type." in str(
        raised.value
    )
    assert image_ids(store, product_id) == before


async def test_unreachable_image_is_upload_error(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    request = write_for(origin, hoodie_id(store), WriteMode.ADD)
    store.settings.refuse_private_hosts = True

    with pytest.raises(ImageUploadError) as raised:
        await connector.write_image(request)

    assert "A valid URL was not provided" in str(raised.value)
    assert isinstance(raised.value, ImageError)


async def test_url_without_extension_rejected_before_write(
    store: Store, origin: Origin, connector: WooCommerceConnector
) -> None:
    product_id = hoodie_id(store)
    request = write_for(origin, product_id, WriteMode.ADD)
    no_extension = ImageWrite(
        request.product_id, f"{origin.url}/noext/photo?fmt=png", request.filename, request.alt
    )
    modified = store.state.products[product_id].date_modified_gmt

    with pytest.raises(ImageError) as raised:
        await connector.write_image(no_extension)

    assert "image extension" in str(raised.value)
    assert store.state.products[product_id].date_modified_gmt == modified
