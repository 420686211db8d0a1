"""Switches of the PergAI simulator; tests change them on the running app's state."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

# "bare": records and lists as they are; "data": wrapped as {"data": ...};
# "named": wrapped under the resource name, {"products": [...]} or {"product": {...}}.
Envelope = Literal["bare", "data", "named"]

API_PREFIX = "/api/external/v1"


def new_api_key() -> str:
    return f"pk_sim_{secrets.token_hex(12)}"


@dataclass
class PergaiSimSettings:
    """How the simulator behaves. Times are in seconds, rates are probabilities (0.0 to 1.0).

    ``api_key`` is the one key accepted; when None, any key starting with ``pk_`` is.
    A generation is pending for the first fifth of ``generation_duration``,
    then processing, then completed (or failed at ``failure_rate``).
    ``out_of_credits`` rejects every create of a generation or tool run with
    ``credits_status`` (402, or 403 as some accounts see it).
    ``tools_finish_at_once`` makes the tools return a finished image URL
    instead of a generation-like record to poll.
    """

    api_key: str | None = None
    envelope: Envelope = "bare"
    generation_duration: float = 2.0
    failure_rate: float = 0.0
    out_of_credits: bool = False
    credits_status: int = 402
    tools_finish_at_once: bool = False
    url_ttl: float = 3600.0
    signing_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    seed: int | None = None
    fetch_timeout: float = 10.0
    max_image_bytes: int = 20 * 1024 * 1024
    # Hosts an http(s) imagePath may name; the simulator runs offline, so loopback only.
    fetch_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
