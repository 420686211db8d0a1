"""Generations, tools and templates through the client, lifecycle included."""

from __future__ import annotations

import time

import pytest

from connectors.pergai import GenerationStatus, GenerationTimeoutError, PergaiClient, Product
from simulators.images import SCENE_COLOURS
from sync.errors import BadRequestError, NotFoundError, OutOfCreditsError
from tests.integration.pergai.conftest import Sim
from tests.integration.pergai.helpers import image_of


@pytest.fixture
async def product(client: PergaiClient) -> Product:
    return await client.create_product("Kupa ☕", "home", "products/kupa.png")


async def test_generation_lifecycle_completed(client: PergaiClient, product: Product) -> None:
    created = await client.create_generation(product.id, "luxury", custom_prompt="on marble")
    seen = {created.status}
    started = time.monotonic()
    while time.monotonic() - started < 5:
        current = await client.get_generation(created.id)
        seen.add(current.status)
        if current.final:
            break

    assert created.status is GenerationStatus.PENDING
    assert GenerationStatus.PROCESSING in seen
    assert current.status is GenerationStatus.COMPLETED
    assert current.product_id == product.id
    assert current.prompt is not None
    assert "on marble" in current.prompt
    assert current.result_image_path is not None
    assert current.result_image_path.split("?")[0].endswith(f"/files/generations/{created.id}.png")
    assert image_of(await client.download(current.result_image_path)).size == (512, 512)


async def test_generation_lifecycle_failed(
    client: PergaiClient, product: Product, sim: Sim
) -> None:
    sim.settings.failure_rate = 1.0

    created = await client.create_generation(product.id, "studio")
    final = await client.wait_for_generation(created.id, deadline=5, interval=0.05)

    assert final.status is GenerationStatus.FAILED
    assert final.error_message
    assert final.result_image_path is None


async def test_wait_times_out(client: PergaiClient, product: Product, sim: Sim) -> None:
    sim.settings.generation_duration = 60
    created = await client.create_generation(product.id, "studio")

    with pytest.raises(GenerationTimeoutError) as caught:
        await client.wait_for_generation(created.id, deadline=0.2, interval=0.05)

    assert caught.value.generation_id == created.id
    assert not caught.value.retryable
    assert "still" in str(caught.value)


async def test_list_and_find_generations(client: PergaiClient, product: Product) -> None:
    other = await client.create_product("Mug", "home", "products/mug.png")
    studio = await client.create_generation(product.id, "studio")
    nature = await client.create_generation(product.id, "nature")
    await client.create_generation(other.id, "studio")

    listed = await client.list_generations()
    found_all = await client.find_generations(product.id)
    found_studio = await client.find_generations(product.id, "studio")

    assert len(listed) == 3
    assert [g.id for g in found_all] == [nature.id, studio.id]
    assert [g.id for g in found_studio] == [studio.id]


async def test_unknown_scene_rejected(client: PergaiClient, product: Product) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.create_generation(product.id, "moon")

    assert "GET /templates" in str(caught.value)


async def test_unknown_product_not_found(client: PergaiClient) -> None:
    with pytest.raises(NotFoundError):
        await client.create_generation("00000000-0000-0000-0000-000000000000", "studio")


async def test_templates_match_scene_colours(client: PergaiClient) -> None:
    names = [template.name for template in await client.list_templates()]

    assert names == list(SCENE_COLOURS)
    assert {"studio", "nature", "luxury"} <= set(names)


@pytest.mark.parametrize("status", [402, 403])
async def test_out_of_credits(
    client: PergaiClient, product: Product, sim: Sim, status: int
) -> None:
    sim.settings.out_of_credits = True
    sim.settings.credits_status = status

    with pytest.raises(OutOfCreditsError) as caught:
        await client.create_generation(product.id, "studio")

    assert caught.value.status == status
    assert "top it up" in str(caught.value)
    assert sim.calls("POST /generations") == 1


async def test_remove_background_polled(client: PergaiClient, product: Product) -> None:
    started = await client.remove_background(product.id)
    assert started.needs_polling
    assert started.id is not None

    final = await client.wait_for_generation(started.id, deadline=5, interval=0.05)

    assert final.status is GenerationStatus.COMPLETED
    assert final.result_image_path is not None
    assert image_of(await client.download(final.result_image_path)).mode == "RGBA"


async def test_upscale_polled(client: PergaiClient, product: Product) -> None:
    started = await client.upscale(product.id, scale="2x", width=512, height=512, use_sharp=True)
    assert started.id is not None

    final = await client.wait_for_generation(started.id, deadline=5, interval=0.05)

    assert final.result_image_path is not None
    assert image_of(await client.download(final.result_image_path)).size == (1024, 1024)


async def test_expand_finished_at_once(client: PergaiClient, product: Product, sim: Sim) -> None:
    sim.settings.tools_finish_at_once = True

    result = await client.expand(product.id, ratio="16:9", prompt="more table")

    assert not result.needs_polling
    assert result.finished_url is not None
    assert image_of(await client.download(result.finished_url)).size == (910, 512)


async def test_upscale_bad_scale_rejected(client: PergaiClient, product: Product) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.upscale(product.id, scale="3x")

    assert "scale" in str(caught.value)
