"""HTTP to one WooCommerce store: the synchronous package in a bounded thread pool.

Every call runs in the connector's own thread pool, so the event loop never
blocks. Responses become ``WooResponse`` or a ``sync.errors`` class whose
message names the store and the fix. The consumer key and secret never reach
a log line or a message: requests' URLs and the store's Link headers repeat
them in query-string mode, so text from either is redacted first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from connectors.retry import RetryPolicy, with_retry
from connectors.woocommerce.errors import translate_error
from connectors.woocommerce.signing import StoreAPI
from sync.errors import InvalidResponseError, RemoteConnectionError

logger = logging.getLogger(__name__)

SERVICE = "WooCommerce"
SECRET_PARAMS = re.compile(r"((?:consumer_key|consumer_secret|oauth_[a-z_]+)=)[^&\s>\"']*", re.I)


class RedactQueryCredentials(logging.Filter):
    """Redact credentials from urllib3's debug lines, which print every request URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if SECRET_PARAMS.search(message):
            record.msg, record.args = SECRET_PARAMS.sub(r"\1***", message), None
        return True


_URL_LOGGER = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, RedactQueryCredentials) for f in _URL_LOGGER.filters):
    _URL_LOGGER.addFilter(RedactQueryCredentials())


@dataclass(frozen=True)
class WooResponse:
    status: int
    headers: dict[str, str]
    body: Any

    def header_int(self, name: str) -> int | None:
        value = self.headers.get(name.lower())
        return int(value) if value is not None and value.strip().isdigit() else None


class WooTransport:
    """Sends REST v3 requests for one store with retries; ``aclose`` stops its threads."""

    def __init__(
        self,
        store_name: str,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        query_string_auth: bool,
        timeout: float,
        max_workers: int,
        retry: RetryPolicy,
        verify_ssl: bool | str = True,
    ) -> None:
        self.store_name = store_name
        self.query_string_auth = query_string_auth
        self.uses_basic_auth = url.startswith("https") and not query_string_auth
        self.retry = retry
        self.timeout = timeout
        self._secrets = tuple(s for s in (consumer_key, consumer_secret) if s)
        self._api = StoreAPI(
            url,
            consumer_key,
            consumer_secret,
            version="wc/v3",
            timeout=timeout,
            verify_ssl=verify_ssl,
            query_string_auth=query_string_auth,
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="woo")

    def redact(self, text: str) -> str:
        """Remove the key, the secret and every OAuth parameter value from ``text``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return SECRET_PARAMS.sub(r"\1***", text)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        data: Any = None,
        resend_unknown: bool = True,
    ) -> WooResponse:
        """Send one request with retries; a write whose outcome is unknown is not resent blindly."""
        description = f"store '{self.store_name}': {method} {endpoint}"
        return await with_retry(
            lambda: self._once(method, endpoint, params, data),
            self.retry,
            description=description,
            resend_unknown=resend_unknown,
        )

    async def _once(
        self, method: str, endpoint: str, params: dict[str, Any] | None, data: Any
    ) -> WooResponse:
        loop = asyncio.get_running_loop()
        call = getattr(self._api, method.lower())
        args = (
            (endpoint,)
            if data is None and method.upper() in ("GET", "DELETE")
            else (endpoint, data)
        )
        try:
            response = await loop.run_in_executor(
                self._pool, lambda: call(*args, params=dict(params or {}))
            )
        except requests.RequestException as error:
            raise self._connection_error(method, endpoint, error) from None
        return self._decode(method, endpoint, response)

    def _connection_error(
        self, method: str, endpoint: str, error: requests.RequestException
    ) -> RemoteConnectionError:
        not_sent = isinstance(error, requests.ConnectTimeout) or (
            isinstance(error, requests.ConnectionError) and "NewConnectionError" in repr(error.args)
        )
        reason = self.redact(f"{type(error).__name__}: {error}")
        outcome = "could not connect" if not_sent else "sent the request but got no response"
        return RemoteConnectionError(
            f"store '{self.store_name}': {method} {endpoint} {outcome} ({reason}); "
            "check the store URL and that the site is up",
            service=SERVICE,
            outcome_unknown=not not_sent,
        )

    def _decode(self, method: str, endpoint: str, response: requests.Response) -> WooResponse:
        headers = {name.lower(): value for name, value in response.headers.items()}
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = None
            if response.ok:
                snippet = self.redact(response.text[:200])
                raise InvalidResponseError(
                    f"store '{self.store_name}': {method} {endpoint} returned non-JSON "
                    f"({response.status_code}): {snippet!r}; check that the URL is the "
                    "WordPress site and that pretty permalinks are enabled",
                    service=SERVICE,
                    status=response.status_code,
                ) from None

        if response.ok:
            return WooResponse(response.status_code, headers, body)
        raise translate_error(
            self.store_name,
            method,
            endpoint,
            response.status_code,
            body,
            headers,
            basic_auth=self.uses_basic_auth,
        )
