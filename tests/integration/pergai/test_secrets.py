"""The API key never appears in log records or exception text, whatever fails."""

from __future__ import annotations

import logging
import time

import pytest

from connectors.pergai import PergaiClient
from simulators.server import serve
from sync.errors import PergaiSyncError
from tests.integration.pergai.conftest import API_KEY, Sim
from tests.integration.pergai.helpers import ScriptedDice, store_app


async def failing_run(client: PergaiClient, sim: Sim) -> list[str]:
    """Drive the client through retries and each error class; return the errors' text."""
    texts: list[str] = []
    product = await client.create_product("Mug", "home", "products/mug.png")

    sim.faults.error_rates = {429: 0.5, 500: 0.5}
    sim.faults.retry_after = 0.01
    sim.faults.random = ScriptedDice(0.0, 1.0, 0.0)
    await client.list_products()
    sim.faults.error_rates = {}

    sim.faults.drop_after_rate = 0.5
    sim.faults.random = ScriptedDice(0.0)
    attempts = [
        client.create_generation(product.id, "studio"),
        client.get_product("missing"),
        client.create_generation(product.id, "moon"),
    ]
    for attempt in attempts:
        try:
            await attempt
        except PergaiSyncError as error:
            texts.append(str(error))
            texts.append(repr(error))

    sim.settings.out_of_credits = True
    try:
        await client.remove_background(product.id)
    except PergaiSyncError as error:
        texts.append(str(error))
    return texts


async def test_key_not_in_logs_or_errors(
    client: PergaiClient, sim: Sim, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    texts = await failing_run(client, sim)
    async with serve(store_app()) as store:
        try:
            await client.create_product("Hoodie", "clothing", f"{store}/media/readme.txt")
        except PergaiSyncError as error:
            texts.append(str(error))

    logged = [record.getMessage() for record in caplog.records]
    fields = [repr(vars(record)) for record in caplog.records]
    assert len(texts) == 8
    assert any("retry" in message for message in logged)
    assert any("PergAI GET /products -> 200" in message for message in logged)
    for text in [*texts, *logged, *fields, repr(client)]:
        assert API_KEY not in text


async def test_request_log_fields(client: PergaiClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="connectors.pergai.client")

    await client.list_templates()

    record = next(r for r in caplog.records if getattr(r, "action", None) == "pergai_request")
    assert record.levelno == logging.DEBUG
    assert record.endpoint == "GET /templates"
    assert record.status == 200


async def test_expired_file_url(client: PergaiClient, sim: Sim) -> None:
    from connectors.pergai import SignedUrlError

    sim.settings.url_ttl = -5
    product = await client.create_product("Mug", "home", "products/mug.png")
    assert product.image_path is not None

    with pytest.raises(SignedUrlError) as caught:
        await client.download(product.image_path)

    assert "fresh URL" in str(caught.value)
    assert "signature=" not in str(caught.value)
    assert sim.calls("GET /files/{tail}") == 1


async def test_wait_deadline_is_seconds(client: PergaiClient, sim: Sim) -> None:
    product = await client.create_product("Mug", "home", "products/mug.png")
    generation = await client.create_generation(product.id, "studio")

    started = time.monotonic()
    final = await client.wait_for_generation(generation.id, deadline=5, interval=0.05)

    assert final.final
    assert time.monotonic() - started < 2
