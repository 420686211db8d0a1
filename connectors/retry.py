"""Retry with exponential backoff and full jitter, shared by every HTTP client.

Only errors whose ``retryable`` flag is set are retried: rate limits, server
errors and connection failures. A ``RateLimitedError`` with ``retry_after``
waits at least that long. Client errors (4xx other than 429) are raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sync.errors import RateLimitedError, RemoteConnectionError, RemoteError

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed call.

    ``attempts`` counts the first try. Delays are in seconds: attempt ``n``
    waits a random time between 0 and ``min(max_delay, base_delay * 2**n)``.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, error: RemoteError) -> float:
        """Return the wait before retry number ``attempt`` (1-based) after ``error``."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        wait = random.uniform(0, ceiling)

        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.max_delay))
        return wait


NO_RETRY = RetryPolicy(attempts=1)


def is_retryable(error: RemoteError, *, resend_unknown: bool) -> bool:
    """Tell whether ``error`` may be retried.

    A connection error after the request was sent is retried only when
    ``resend_unknown`` is true, because resending a create can duplicate it.
    """
    if isinstance(error, RemoteConnectionError) and error.outcome_unknown:
        return resend_unknown
    return error.retryable


async def with_retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    description: str,
    resend_unknown: bool = True,
    on_retry: Callable[[RemoteError], None] | None = None,
) -> T:
    """Run ``call`` and retry it under ``policy`` while it raises a retryable ``RemoteError``."""
    attempt = 1
    while True:
        try:
            return await call()
        except RemoteError as error:
            if attempt >= policy.attempts or not is_retryable(error, resend_unknown=resend_unknown):
                raise

            wait = policy.delay(attempt, error)
            logger.warning(
                "%s failed (%s), retry %d of %d in %.1f s",
                description,
                error,
                attempt,
                policy.attempts - 1,
                wait,
                extra={"action": "retry", "error_kind": type(error).__name__},
            )
            if on_retry is not None:
                on_retry(error)
            await asyncio.sleep(wait)
            attempt += 1
