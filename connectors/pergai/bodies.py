"""Read PergAI response bodies: JSON into typed records, files into memory or onto disk."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from connectors.pergai.envelope import SERVICE, invalid
from sync.errors import InvalidResponseError

M = TypeVar("M", bound=BaseModel)

CHUNK_SIZE = 64 * 1024


async def read_json(response: aiohttp.ClientResponse) -> Any:
    endpoint = f"{response.method} {response.url.path}"
    try:
        return await response.json(content_type=None)
    except ValueError as error:
        raise invalid(endpoint, "the body is not JSON") from error


async def ignore_body(response: aiohttp.ClientResponse) -> None:
    await response.read()


async def read_limited(response: aiohttp.ClientResponse, max_bytes: int, label: str) -> bytes:
    """Read the body, failing when it is larger than ``max_bytes``."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_SIZE):
        data.extend(chunk)
        if len(data) > max_bytes:
            raise InvalidResponseError(
                f"PergAI file {label} is larger than {max_bytes} bytes; not downloaded",
                service=SERVICE,
            )
    return bytes(data)


async def stream_to_file(response: aiohttp.ClientResponse, destination: Path) -> int:
    """Write the body to ``destination`` chunk by chunk, file writes running in a thread."""
    partial = destination.with_name(destination.name + ".part")
    handle = await asyncio.to_thread(partial.open, "wb")
    written = 0
    try:
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            await asyncio.to_thread(handle.write, chunk)
            written += len(chunk)
    except BaseException:
        await asyncio.to_thread(handle.close)
        await asyncio.to_thread(partial.unlink, True)
        raise

    await asyncio.to_thread(handle.close)
    await asyncio.to_thread(partial.replace, destination)
    return written


def parse_model(model: type[M], payload: Any, endpoint: str) -> M:
    """Validate ``payload`` as ``model``; field errors name the field, not its value."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'record'}: {problem['msg']}"
            for problem in error.errors(include_input=False, include_url=False)[:3]
        )
        raise invalid(endpoint, f"{model.__name__} {problems}") from error
