"""The exceptions of pergai-sync.

Every error the service raises derives from ``PergaiSyncError``. Errors from
third-party libraries (aiohttp, SQLAlchemy, the store packages) are translated
into these where they enter, so the pipeline only ever handles this module's
classes. Each class docstring is its default message and says what to do.
"""

from __future__ import annotations


class PergaiSyncError(Exception):
    """pergai-sync failed; see the log for details."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(PergaiSyncError):
    """The configuration is invalid; run `pergai-sync check` to see what to fix."""


class StorageError(PergaiSyncError):
    """The mapping database failed; check the `[database]` URL and that it is reachable."""


class RemoteError(PergaiSyncError):
    """A remote service (a store or PergAI) returned an error.

    ``service`` names the remote side ("PergAI", "Shopify", "WooCommerce"),
    ``status`` is the HTTP status when there was one, and ``retryable`` tells
    the retry loop whether trying again can help.
    """

    retryable = False

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "remote service",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.status = status


class AuthenticationError(RemoteError):
    """The remote service rejected the credentials (401/403); check the key in the config."""


class NotFoundError(RemoteError):
    """The requested record does not exist on the remote service (404)."""


class OutOfCreditsError(RemoteError):
    """The PergAI account is out of credits (402); top it up, then run `pergai-sync retry`."""


class BadRequestError(RemoteError):
    """The remote service rejected the request as invalid (400/422); see its message."""


class RateLimitedError(RemoteError):
    """The remote service is rate limiting requests (429); pergai-sync waits and retries."""

    retryable = True

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "remote service",
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, service=service, status=status)
        self.retry_after = retry_after


class ServerError(RemoteError):
    """The remote service failed with a server error (5xx); pergai-sync retries with backoff."""

    retryable = True


class RemoteConnectionError(RemoteError):
    """Could not reach the remote service or it timed out; check the address and the network.

    ``outcome_unknown`` is true when the request was sent but no response came
    back, so a create may have happened: look the record up before resending.
    """

    retryable = True

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "remote service",
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, service=service, status=None)
        self.outcome_unknown = outcome_unknown


class InvalidResponseError(RemoteError):
    """The remote service returned a response that pergai-sync cannot read."""


class WebhookSignatureError(PergaiSyncError):
    """The webhook signature is missing or does not match; check the store's webhook secret."""


class ImageError(PergaiSyncError):
    """The image cannot be used; the message says why (size, format or unreachable URL)."""
