"""A PergAI simulator on a loopback port and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from connectors.pergai import PergaiClient
from connectors.retry import RetryPolicy
from simulators.faults import Faults
from simulators.pergai import (
    API_PREFIX,
    FAULTS_KEY,
    STATE_KEY,
    PergaiSimSettings,
    PergaiState,
    create_app,
)
from simulators.server import serve

API_KEY = "pk_test_4f1c2a9d8e7b6a5c"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=1.0)


@dataclass
class Sim:
    """A running simulator: its origin, API base URL, state and fault switches."""

    origin: str
    base_url: str
    state: PergaiState
    faults: Faults

    @property
    def settings(self) -> PergaiSimSettings:
        return self.state.settings

    def calls(self, endpoint: str) -> int:
        return self.state.requests[endpoint]


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    settings = PergaiSimSettings(api_key=API_KEY, generation_duration=0.3, seed=7)
    app = create_app(settings)
    async with serve(app) as origin:
        yield Sim(origin, origin + API_PREFIX, app[STATE_KEY], app[FAULTS_KEY])  # type: ignore[arg-type]


@pytest.fixture
async def client(sim: Sim) -> AsyncIterator[PergaiClient]:
    async with PergaiClient(sim.base_url, API_KEY, timeout=5, retry=FAST_RETRY) as pergai:
        yield pergai
