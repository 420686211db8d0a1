"""Retries, Retry-After, connection failures and the no-resend rule for creates."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from connectors.pergai import PergaiClient
from connectors.retry import RetryPolicy
from sync.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    RateLimitedError,
    RemoteConnectionError,
    ServerError,
)
from tests.integration.pergai.conftest import API_KEY, FAST_RETRY, Sim
from tests.integration.pergai.helpers import ScriptedDice


async def test_rate_limit_waits_retry_after(client: PergaiClient, sim: Sim) -> None:
    sim.faults.error_rates = {429: 0.5}
    sim.faults.retry_after = 0.2
    sim.faults.random = ScriptedDice(0.0)  # the first request is limited, the next passes

    started = time.monotonic()
    products = await client.list_products()
    elapsed = time.monotonic() - started

    assert products == []
    assert sim.calls("GET /products") == 2
    assert elapsed >= 0.2


async def test_rate_limit_gives_up(client: PergaiClient, sim: Sim) -> None:
    sim.faults.error_rates = {429: 1.0}
    sim.faults.retry_after = 0.05

    with pytest.raises(RateLimitedError) as caught:
        await client.list_templates()

    assert caught.value.retry_after == pytest.approx(0.05)
    assert sim.calls("GET /templates") == FAST_RETRY.attempts


async def test_server_error_retried(client: PergaiClient, sim: Sim) -> None:
    sim.faults.error_rates = {500: 0.5}
    sim.faults.random = ScriptedDice(0.0, 0.0)

    assert len(await client.list_templates()) > 0
    assert sim.calls("GET /templates") == 3


async def test_unavailable_gives_up(client: PergaiClient, sim: Sim) -> None:
    sim.faults.error_rates = {503: 1.0}

    with pytest.raises(ServerError) as caught:
        await client.list_products()

    assert caught.value.status == 503
    assert sim.calls("GET /products") == FAST_RETRY.attempts


async def test_server_error_on_create_retried(client: PergaiClient, sim: Sim) -> None:
    """A 500 returned before the handler ran created nothing, so a resend is safe."""
    sim.faults.error_rates = {500: 0.5}
    sim.faults.random = ScriptedDice(0.0)

    await client.create_collection("Tekrar")

    assert sim.calls("POST /collections") == 2
    assert len(sim.state.collections) == 1


@pytest.mark.parametrize(
    ("call", "endpoint", "expected"),
    [
        ("bad_request", "POST /products", BadRequestError),
        ("not_found", "GET /products/{id}", NotFoundError),
    ],
)
async def test_client_errors_not_retried(
    client: PergaiClient, sim: Sim, call: str, endpoint: str, expected: type[Exception]
) -> None:
    with pytest.raises(expected):
        if call == "bad_request":
            await client.create_product("Mug", "home", "ftp://example/a.png")
        else:
            await client.get_product("missing")

    assert sim.calls(endpoint) == 1


async def test_wrong_key_not_retried(sim: Sim) -> None:
    async with PergaiClient(sim.base_url, "pk_wrong_key_123", retry=FAST_RETRY) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_products()

    assert caught.value.status == 401
    assert "PERGAI_API_KEY" in str(caught.value)
    assert "pk_wrong_key_123" not in str(caught.value)
    assert sim.calls("GET /products") == 1


async def test_dropped_before_handling_retried(client: PergaiClient, sim: Sim) -> None:
    sim.faults.drop_rate = 0.5
    sim.faults.random = ScriptedDice(0.0)

    assert await client.list_products() == []
    assert sim.calls("GET /products") == 2


async def test_dropped_create_not_resent(client: PergaiClient, sim: Sim) -> None:
    sim.faults.drop_after_rate = 0.5
    sim.faults.random = ScriptedDice(0.0)

    with pytest.raises(RemoteConnectionError) as caught:
        await client.create_product("Kapüşonlu", "clothing", "products/hoodie.png")
    found = await client.find_product("Kapüşonlu", "https://shop.example/files/hoodie.png")

    assert caught.value.outcome_unknown
    assert sim.calls("POST /products") == 1
    assert len(sim.state.products) == 1
    assert found is not None
    assert found.id in sim.state.products


async def test_timed_out_generation_found(client: PergaiClient, sim: Sim) -> None:
    product = await client.create_product("Mug", "home", "products/mug.png")
    sim.faults.latency = 0.5
    async with PergaiClient(sim.base_url, API_KEY, timeout=0.2, retry=FAST_RETRY) as hasty:
        with pytest.raises(RemoteConnectionError) as caught:
            await hasty.create_generation(product.id, "studio")
    sim.faults.latency = 0.0
    await settle(sim)

    found = await client.find_generations(product.id, "studio")

    assert caught.value.outcome_unknown
    assert "timed out after 0.2 s" in str(caught.value)
    assert sim.calls("POST /generations") == 1
    assert len(found) == 1


async def settle(sim: Sim) -> None:
    """Wait until the server finished the request the client gave up on."""
    for _ in range(50):
        if sim.state.generations:
            return
        await asyncio.sleep(0.05)


async def test_connection_refused_known_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    policy = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
    async with PergaiClient(f"http://127.0.0.1:{port}/api", API_KEY, retry=policy) as client:
        with pytest.raises(RemoteConnectionError) as caught:
            await client.create_collection("Yok")

    assert not caught.value.outcome_unknown
    assert "check [pergai] base_url" in str(caught.value)


async def test_dropped_delete_missing_ok(client: PergaiClient, sim: Sim) -> None:
    collection = await client.create_collection("Geçici")
    sim.faults.drop_after_rate = 0.5
    sim.faults.random = ScriptedDice(0.0)

    await client.delete_collection(collection.id, missing_ok=True)

    assert sim.calls("DELETE /collections/{id}") == 2
    assert sim.state.collections == {}


async def test_delete_missing_not_found(client: PergaiClient) -> None:
    with pytest.raises(NotFoundError):
        await client.delete_collection("missing")


async def test_concurrency_bounded(sim: Sim) -> None:
    sim.faults.latency = 0.2
    async with PergaiClient(sim.base_url, API_KEY, max_concurrency=2, retry=FAST_RETRY) as client:
        started = time.monotonic()
        await asyncio.gather(*(client.list_templates() for _ in range(4)))
        elapsed = time.monotonic() - started

    assert sim.calls("GET /templates") == 4
    assert elapsed >= 0.4
