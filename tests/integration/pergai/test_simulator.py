"""The PergAI simulator over raw HTTP: keys, signed files, counts and the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.integration.pergai.conftest import API_KEY, Sim


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    "header", [None, "Bearer pk_other", f"Bearer {API_KEY[3:]}", f"Basic {API_KEY}"]
)
async def test_bad_key_unauthorized(
    sim: Sim, http: aiohttp.ClientSession, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}

    async with http.get(f"{sim.base_url}/products", headers=headers) as response:
        body = await response.json()

    assert response.status == 401
    assert "API key" in body["error"]


async def test_any_pk_key_when_unset(sim: Sim, http: aiohttp.ClientSession) -> None:
    sim.settings.api_key = None

    async with http.get(
        f"{sim.base_url}/templates", headers={"Authorization": "Bearer pk_anything"}
    ) as response:
        assert response.status == 200


async def test_tampered_signature_forbidden(sim: Sim, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    body = {"name": "Mug", "category": "home", "imagePath": "products/mug.png"}
    async with http.post(f"{sim.base_url}/products", json=body, headers=headers) as response:
        url = (await response.json())["imagePath"]

    async with http.get(url) as good:
        assert good.status == 200
        assert good.content_type == "image/png"
    async with http.get(url[:-1] + ("0" if url[-1] != "0" else "1")) as tampered:
        assert tampered.status == 403
        assert "bad signature" in (await tampered.json())["error"]


async def test_invalid_json_body_rejected(sim: Sim, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}

    async with http.post(f"{sim.base_url}/collections", data=b"{", headers=headers) as response:
        body = await response.json()

    assert response.status == 400
    assert "not valid JSON" in body["message"]


async def test_requests_counted_per_endpoint(sim: Sim, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    for _ in range(3):
        async with http.get(f"{sim.base_url}/generations/abc", headers=headers) as response:
            assert response.status == 404

    assert sim.calls("GET /generations/{id}") == 3
    assert sim.state.requests["total"] == 3


async def test_command_line_prints_url_and_key() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.pergai",
        "--port",
        "0",
        "--key",
        "pk_cli_test",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        second = await asyncio.wait_for(process.stdout.readline(), timeout=5)
        base_url = first.decode().split(" at ")[1].strip()

        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{base_url}/templates", headers={"Authorization": "Bearer pk_cli_test"}
            ) as response,
        ):
            assert response.status == 200
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/api/external/v1")
        assert second.decode().strip() == "API key: pk_cli_test"
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=10)
