"""Retry policy: what is retried, how often, and how long it waits."""

from __future__ import annotations

import pytest

from connectors.retry import RetryPolicy, with_retry
from sync.errors import (
    BadRequestError,
    RateLimitedError,
    RemoteConnectionError,
    ServerError,
)

FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)


class Flaky:
    """A call that raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_retries_server_error_until_success() -> None:
    call = Flaky(ServerError(), ServerError())

    assert await with_retry(call, FAST, description="test") == "ok"
    assert call.calls == 3


async def test_bad_request_not_retried() -> None:
    call = Flaky(BadRequestError("name is required"))

    with pytest.raises(BadRequestError):
        await with_retry(call, FAST, description="test")
    assert call.calls == 1


async def test_gives_up_after_attempts() -> None:
    call = Flaky(*[ServerError() for _ in range(10)])

    with pytest.raises(ServerError):
        await with_retry(call, FAST, description="test")
    assert call.calls == FAST.attempts


async def test_unknown_outcome_not_resent_when_asked() -> None:
    call = Flaky(RemoteConnectionError(outcome_unknown=True))

    with pytest.raises(RemoteConnectionError):
        await with_retry(call, FAST, description="create", resend_unknown=False)
    assert call.calls == 1


def test_delay_honours_retry_after() -> None:
    policy = RetryPolicy(attempts=3, base_delay=0.01, max_delay=10.0)
    error = RateLimitedError(retry_after=2.0)

    assert policy.delay(1, error) >= 2.0


def test_delay_capped_by_max_delay() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=0.5)

    assert all(policy.delay(8, ServerError()) <= 0.5 for _ in range(50))
