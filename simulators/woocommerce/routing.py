"""Request context, REST errors and the route table of /wp-json/wc/v3.

WordPress answers an unknown route and a known route with the wrong method
alike: 404 ``rest_no_route``. Authentication errors come before routing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from simulators.woocommerce.auth import AuthFailure, Caller, authenticate
from simulators.woocommerce.state import WooState
from simulators.woocommerce.webhooks import WebhookDispatcher
from simulators.woocommerce.wire import error_body, error_response, json_response

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

NOT_ALLOWED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "delete": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
    "batch": (
        "woocommerce_rest_cannot_batch",
        "Sorry, you are not allowed to batch manipulate this resource.",
    ),
}


class ApiError(Exception):
    """A WooCommerce REST error: code, message, HTTP status and extra ``data`` fields."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.status, **self.data)


@dataclass
class Ctx:
    """What a handler needs: the request, the store, the caller and the path's ids."""

    request: web.Request
    state: WooState
    caller: Caller
    webhooks: WebhookDispatcher
    session: aiohttp.ClientSession
    home: str
    ids: dict[str, int] = field(default_factory=dict)

    def require(self, action: str) -> None:
        """Refuse an anonymous caller with the route's 401, as the permission callbacks do."""
        if self.caller.key is None:
            code, message = NOT_ALLOWED[action]
            raise ApiError(code, message, 401)

    async def json_body(self) -> dict[str, Any]:
        raw = await self.request.read()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError as error:
            raise ApiError(
                "rest_invalid_json",
                "Invalid JSON body passed.",
                400,
                json_error_code=4,
                json_error_message="Syntax error",
            ) from error
        if not isinstance(body, dict):
            raise ApiError("rest_invalid_json", "Invalid JSON body passed.", 400)
        return body


Handler = Callable[[Ctx], Awaitable[web.Response]]
Route = tuple[re.Pattern[str], dict[str, Handler]]


def no_route() -> web.Response:
    return error_response(
        "rest_no_route", "No route was found matching the URL and request method.", 404
    )


async def dispatch(
    request: web.Request,
    routes: list[Route],
    state: WooState,
    webhooks: WebhookDispatcher,
    session: aiohttp.ClientSession,
) -> web.Response:
    """Authenticate, check write permission, route and run a handler; errors become REST bodies."""
    scheme = "https" if state.settings.https else "http"
    state.home_url = f"{scheme}://{request.host}"
    try:
        caller = authenticate(request, state)
    except AuthFailure as failure:
        return error_response("woocommerce_rest_authentication_error", failure.message, 401)

    if caller.key is not None and request.method in WRITE_METHODS and not caller.key.can_write:
        return error_response(
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
            401,
        )

    home = f"{'https' if caller.https else 'http'}://{request.host}"
    route_path = request.match_info.get("tail", "")
    for pattern, handlers in routes:
        match = pattern.fullmatch(route_path)
        if match is None:
            continue
        handler = handlers.get(request.method)
        if handler is None:
            return no_route()
        ids = {name: int(value) for name, value in match.groupdict().items()}
        ctx = Ctx(request, state, caller, webhooks, session, home, ids)
        try:
            return await handler(ctx)
        except ApiError as error:
            return json_response(error.body(), status=error.status)
    return no_route()
