"""Turn a step's error into its next state: retry later, wait, or fail with a reason."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from connectors.pergai import GenerationTimeoutError
from storage.errors import PergaiProductTakenError
from sync.errors import (
    AuthenticationError,
    ImageError,
    OutOfCreditsError,
    PergaiSyncError,
    RateLimitedError,
    RemoteError,
    StorageError,
)

MAX_ATTEMPTS = 6
BASE_DELAY = 10.0
MAX_DELAY = 3600.0
# Out of credits is not the product's fault: check again on this period, without a limit.
CREDITS_RECHECK = 1800.0
# PostgreSQL aborts one transaction of a deadlock (40P01) or of a serialization conflict
# (40001); the same step run again normally succeeds.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


@dataclass(frozen=True)
class Verdict:
    """The decision after an error: retry at ``retry_at``, or give up when it is None."""

    reason: str
    retry_at: datetime | None
    counts_attempt: bool = True


def backoff(attempts: int, now: datetime, base_delay: float = BASE_DELAY) -> datetime:
    """Return when to try again after ``attempts`` failures: exponential, full jitter."""
    ceiling = min(MAX_DELAY, base_delay * 2 ** max(attempts - 1, 0))
    return now + timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def judge(
    error: PergaiSyncError, attempts: int, now: datetime, base_delay: float = BASE_DELAY
) -> Verdict:
    """Decide the next state after ``error`` on a step that has failed ``attempts`` times.

    ``base_delay`` (seconds) is the first backoff, from `[daemon] retry_base_delay`.
    """
    reason = str(error)

    if isinstance(error, OutOfCreditsError):
        return Verdict(reason, now + timedelta(seconds=CREDITS_RECHECK), counts_attempt=False)

    if isinstance(error, AuthenticationError | ImageError):
        return Verdict(reason, None)

    retryable = isinstance(error, RemoteError) and error.retryable
    if transient_storage_error(error) or isinstance(error, PergaiProductTakenError):
        retryable = True
    if isinstance(error, GenerationTimeoutError):
        retryable = True
    if not retryable or attempts >= MAX_ATTEMPTS:
        suffix = "" if not retryable else f" (gave up after {attempts} attempts)"
        return Verdict(reason + suffix, None)

    retry_at = backoff(attempts, now, base_delay)
    if isinstance(error, RateLimitedError) and error.retry_after:
        retry_at = max(retry_at, now + timedelta(seconds=error.retry_after))
    return Verdict(reason, retry_at)


def transient_storage_error(error: PergaiSyncError) -> bool:
    """True when a database error is a deadlock or serialization conflict worth retrying."""
    if not isinstance(error, StorageError):
        return False
    original = getattr(error.__cause__, "orig", None)
    return getattr(original, "sqlstate", None) in TRANSIENT_SQLSTATES
