"""The GraphQL transport of the Shopify connector: requests, cost pacing and error translation.

Shopify charges each query points from a leaky bucket and reports the bucket
in ``extensions.cost.throttleStatus``. The client remembers the last status
and what each document cost, waits ``(cost - available) / restoreRate`` before
a query that would not fit, and when Shopify still answers THROTTLED (HTTP
200 with that error code, or 429) waits the computed time, never less than
``MIN_THROTTLE_WAIT``, and retries a bounded number of times.

Concurrent queries of one shop pass one gate in turn: each waits for its
points there and reserves them from the remembered bucket, so tasks running
at once queue behind each other instead of all spending the same points and
being throttled together.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.retry import RetryPolicy, with_retry
from sync.errors import (
    AuthenticationError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    RemoteConnectionError,
    ServerError,
)

logger = logging.getLogger(__name__)

SERVICE = "Shopify"
MIN_THROTTLE_WAIT = 0.5
MAX_THROTTLE_RETRIES = 20
# Points assumed for a document whose cost Shopify has not reported yet.
UNKNOWN_COST = 50.0


@dataclass
class ThrottleStatus:
    """The bucket as Shopify last reported it, and when."""

    maximum: float
    available: float
    restore_rate: float
    seen_at: float

    def available_now(self) -> float:
        elapsed = time.monotonic() - self.seen_at
        return min(self.maximum, self.available + elapsed * self.restore_rate)

    def reserve(self, cost: float) -> None:
        """Count ``cost`` points as spent now, before Shopify reports the real figure."""
        self.available = self.available_now() - cost
        self.seen_at = time.monotonic()

    def wait_for(self, cost: float) -> float:
        """Seconds until the bucket holds ``cost`` points (0 when it already does)."""
        missing = cost - self.available_now()
        if missing <= 0:
            return 0.0
        return missing / max(self.restore_rate, 0.001)


class ShopifyGraphQL:
    """One shop's GraphQL endpoint; every call goes through ``execute``."""

    def __init__(
        self,
        *,
        store: str,
        endpoint: str,
        access_token: str,
        session: aiohttp.ClientSession,
        timeout: aiohttp.ClientTimeout,
        retry: RetryPolicy,
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self._headers = {"X-Shopify-Access-Token": access_token, "Content-Type": "application/json"}
        self.session = session
        self.timeout = timeout
        self.retry = retry
        self.throttle: ThrottleStatus | None = None
        self._costs: dict[str, float] = {}
        # Queries wait for their points one at a time here (see the module docstring).
        self._gate = asyncio.Lock()
        # Requests sent and THROTTLED answers received, for logs and benchmarks.
        self.requests = 0
        self.throttled = 0
        self.points_used = 0.0

    def forget_costs(self) -> None:
        """Drop what the client learnt about the bucket and query costs (after a long pause)."""
        self.throttle = None
        self._costs.clear()

    async def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, mutation: bool = False
    ) -> dict[str, Any]:
        """Send ``document`` and return its ``data``, pacing and retrying as described above."""
        description = f"store '{self.store}': Shopify request"
        return await with_retry(
            lambda: self._paced(document, variables or {}),
            self.retry,
            description=description,
            resend_unknown=not mutation,
        )

    async def _paced(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        for _ in range(MAX_THROTTLE_RETRIES):
            await self._wait_for_points(document)
            body = await self._post(document, variables)
            cost = self._read_cost(document, body)

            if is_throttled(body):
                self.throttled += 1
                self._reject_oversized(cost)
                # Jitter keeps tasks throttled together from retrying together.
                wait = self._throttle_wait(cost) * random.uniform(1.0, 1.5)
                logger.warning(
                    "store '%s': Shopify throttled a query; waiting %.2f s",
                    self.store,
                    wait,
                    extra={"action": "shopify_throttled", "store": self.store},
                )
                await asyncio.sleep(wait)
                continue
            return self._data(body)
        raise RateLimitedError(
            f"store '{self.store}': Shopify kept throttling after {MAX_THROTTLE_RETRIES} waits; "
            "another app may be using this store's API budget, try again later",
            service=SERVICE,
        )

    async def _wait_for_points(self, document: str) -> None:
        async with self._gate:
            if self.throttle is None:
                return

            cost = min(self._costs.get(document, UNKNOWN_COST), self.throttle.maximum)
            wait = self.throttle.wait_for(cost)
            if wait > 0:
                logger.debug("store '%s': pacing %.2f s for %d points", self.store, wait, cost)
                await asyncio.sleep(wait)
            self.throttle.reserve(cost)

    def _reject_oversized(self, cost: dict[str, Any] | None) -> None:
        """Raise when a query costs more than the whole bucket: waiting can never help."""
        if cost is None or self.throttle is None:
            return
        requested = float(cost.get("requestedQueryCost") or 0)
        if requested > self.throttle.maximum:
            raise BadRequestError(
                f"store '{self.store}': a Shopify query costs {requested:.0f} points but the "
                f"store's bucket holds only {self.throttle.maximum:.0f}; report this with "
                "the store's plan, since pergai-sync sizes its queries for buckets of 1,000 "
                "points and more",
                service=SERVICE,
            )

    def _throttle_wait(self, cost: dict[str, Any] | None) -> float:
        if cost is None or self.throttle is None:
            return MIN_THROTTLE_WAIT * 2
        requested = float(cost.get("requestedQueryCost") or 0)
        return max(MIN_THROTTLE_WAIT, self.throttle.wait_for(requested))

    def _read_cost(self, document: str, body: dict[str, Any]) -> dict[str, Any] | None:
        cost = (body.get("extensions") or {}).get("cost")
        if not isinstance(cost, dict):
            return None
        status = cost.get("throttleStatus") or {}
        try:
            self.throttle = ThrottleStatus(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
                seen_at=time.monotonic(),
            )
        except (KeyError, TypeError, ValueError):
            return cost
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float):
            self._costs[document] = float(requested)
        actual = cost.get("actualQueryCost")
        if isinstance(actual, int | float):
            self.points_used += float(actual)
        return cost

    async def _post(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        payload = {"query": document, "variables": variables}
        self.requests += 1
        try:
            async with self.session.post(
                self.endpoint, json=payload, headers=self._headers, timeout=self.timeout
            ) as response:
                if response.status == 429:
                    return await self._too_many_requests(response)
                self._raise_for_status(response.status)
                body = await response.json(content_type=None)
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise RemoteConnectionError(
                f"store '{self.store}': could not reach Shopify at {self.endpoint} ({error}); "
                "check the shop domain and the network",
                service=SERVICE,
                outcome_unknown=True,
            ) from error
        except (aiohttp.ContentTypeError, ValueError) as error:
            raise InvalidResponseError(
                f"store '{self.store}': Shopify returned a body that is not JSON", service=SERVICE
            ) from error
        if not isinstance(body, dict):
            raise InvalidResponseError(
                f"store '{self.store}': Shopify returned an unexpected body", service=SERVICE
            )
        return body

    async def _too_many_requests(self, response: aiohttp.ClientResponse) -> dict[str, Any]:
        """Treat HTTP 429 like THROTTLED, keeping the cost extension when the body has one."""
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        body.setdefault("errors", [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}])
        return body

    def _raise_for_status(self, status: int) -> None:
        if status < 400:
            return
        if status == 401:
            raise AuthenticationError(
                f"store '{self.store}': Shopify refused the access token (401); "
                "check the access token",
                service=SERVICE,
                status=status,
            )
        if status == 403:
            raise AuthenticationError(
                f"store '{self.store}': Shopify denied access (403); check the app's permissions",
                service=SERVICE,
                status=status,
            )
        if status == 404:
            raise NotFoundError(
                f"store '{self.store}': Shopify has no shop at {self.endpoint} (404); "
                "check the shop domain and the API version",
                service=SERVICE,
                status=status,
            )
        if status >= 500:
            raise ServerError(
                f"store '{self.store}': Shopify failed with HTTP {status}",
                service=SERVICE,
                status=status,
            )
        raise BadRequestError(
            f"store '{self.store}': Shopify rejected the request with HTTP {status}",
            service=SERVICE,
            status=status,
        )

    def _data(self, body: dict[str, Any]) -> dict[str, Any]:
        errors = body.get("errors")
        if errors:
            raise self._graphql_error(errors)
        data = body.get("data")
        if not isinstance(data, dict):
            raise InvalidResponseError(
                f"store '{self.store}': Shopify returned no data", service=SERVICE
            )
        return data

    def _graphql_error(self, errors: Any) -> Exception:
        first: dict[str, Any] = {"message": str(errors)}
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
        message = str(first.get("message", "unknown error"))
        code = (first.get("extensions") or {}).get("code")
        if code == "ACCESS_DENIED":
            return AuthenticationError(
                f"store '{self.store}': Shopify denied access: {message} "
                "Add the scope to the app and reinstall it",
                service=SERVICE,
                status=403,
            )
        if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
            return ServerError(f"store '{self.store}': Shopify failed: {message}", service=SERVICE)
        return BadRequestError(
            f"store '{self.store}': Shopify rejected the query: {message}", service=SERVICE
        )


def is_throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return False
    return any(
        (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
        if isinstance(e, dict)
    )


def user_errors(payload: dict[str, Any] | None, key: str = "userErrors") -> list[dict[str, Any]]:
    """Return a mutation payload's user errors (an empty list when there are none)."""
    if not payload:
        return []
    found = payload.get(key) or []
    return [error for error in found if isinstance(error, dict)]
