"""The aiohttp app of the Shopify simulator: GraphQL endpoint, image CDN, uploads, bulk files.

Routes: ``POST /admin/api/{version}/graphql.json`` (and the same under
``/shops/{shop}/`` to address a shop by name; an unknown shop is a 404),
``GET /cdn/shop/files/{id}/{filename}``, ``POST /staged-uploads/{token}``,
``GET /staged-uploads/{token}/{filename}`` and ``GET /bulk/{n}.jsonl``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import BodyPartReader, web
from graphql import GraphQLError, execute_sync, parse, validate

from simulators.faults import FAULTS_KEY, fault_middleware
from simulators.shopify.cost import CostCalculator
from simulators.shopify.cost import actual_cost as count_actual_cost
from simulators.shopify.settings import ShopifySettings
from simulators.shopify.shop import ShopifyState
from simulators.shopify.views import RequestContext

STATE_KEY = web.AppKey("shopify_state", ShopifyState)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
UNDEFINED_FIELD = re.compile(r"Cannot query field '(\w+)' on type '(\w+)'")


def create_app(settings: ShopifySettings | None = None) -> web.Application:
    """Build the simulator app; its state is ``app[STATE_KEY]``."""
    settings = settings or ShopifySettings()
    state = ShopifyState(settings)
    if not settings.faults.exempt_prefixes:
        settings.faults.exempt_prefixes = ("/cdn/", "/staged-uploads/", "/bulk/")

    app = web.Application(middlewares=[fault_middleware], client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = settings.faults
    app.router.add_post("/admin/api/{version}/graphql.json", graphql_handler)
    app.router.add_post("/shops/{shop}/admin/api/{version}/graphql.json", graphql_handler)
    app.router.add_get("/cdn/shop/files/{id}/{filename}", cdn_handler)
    app.router.add_post("/staged-uploads/{token}", staged_upload_handler)
    app.router.add_get("/staged-uploads/{token}/{filename}", staged_file_handler)
    app.router.add_get("/bulk/{number}.jsonl", bulk_file_handler)

    async def close_state(_app: web.Application) -> None:
        await state.close()

    app.on_cleanup.append(close_state)
    return app


def shopify_error(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extra}}


def format_error(error: GraphQLError) -> dict[str, Any]:
    """Render a graphql-core error in Shopify's shape (message, locations, path, extensions)."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    if error.path:
        formatted["path"] = list(error.path)
    extensions = dict(error.extensions or {})
    match = UNDEFINED_FIELD.search(error.message)
    if match:
        formatted["message"] = f"Field '{match.group(1)}' doesn't exist on type '{match.group(2)}'"
        extensions = {
            "code": "undefinedField",
            "typeName": match.group(2),
            "fieldName": match.group(1),
        }
    formatted["extensions"] = extensions or {"code": "GRAPHQL_VALIDATION_FAILED"}
    return formatted


def check_access(request: web.Request, state: ShopifyState) -> web.Response | None:
    shop = request.match_info.get("shop")
    if shop is not None and shop not in (state.settings.shop, state.settings.domain):
        return web.json_response({"errors": "Not Found"}, status=404)
    if request.headers.get("X-Shopify-Access-Token") != state.settings.access_token:
        return web.json_response({"errors": INVALID_TOKEN}, status=401)
    return None


async def graphql_handler(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    denied = check_access(request, state)
    if denied is not None:
        return denied
    state.base_url = f"{request.scheme}://{request.host}"
    state.api_version = request.match_info["version"]

    try:
        body = await request.json()
        query = body["query"]
        variables = body.get("variables") or {}
    except (ValueError, KeyError, TypeError):
        return web.json_response(
            {"errors": {"query": "Required parameter missing or invalid"}}, status=400
        )

    try:
        document = parse(query)
    except GraphQLError as error:
        return web.json_response({"errors": [format_error(error)]})
    errors = validate(state.schema, document)
    if errors:
        state.count("invalid")
        return web.json_response({"errors": [format_error(e) for e in errors]})
    return await run_query(state, document, variables, body.get("operationName"))


async def run_query(
    state: ShopifyState, document: Any, variables: dict[str, Any], operation_name: str | None
) -> web.Response:
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    operations = [d for d in document.definitions if d.kind == "operation_definition"]
    operation = next(
        (
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        ),
        None,
    )
    if operation is None:
        return web.json_response(
            {"errors": [shopify_error("No operation named " + str(operation_name), "BAD_REQUEST")]}
        )

    try:
        requested = CostCalculator(state.schema, fragments, variables).operation(operation)
    except GraphQLError as error:
        return web.json_response({"errors": [format_error(error)]})
    if requested > state.settings.max_query_cost:
        state.count("max_cost")
        message = (
            f"Query cost is {requested}, which exceeds the single query max cost limit "
            f"({state.settings.max_query_cost})."
        )
        return web.json_response(
            {
                "errors": [
                    shopify_error(
                        message,
                        "MAX_COST_EXCEEDED",
                        cost=requested,
                        maxCost=state.settings.max_query_cost,
                    )
                ]
            }
        )

    if state.settings.bucket_enabled:
        if state.settings.faults.random.random() < state.settings.other_client_rate:
            state.bucket.take(state.bucket.available())
        if not state.bucket.take(requested):
            return throttled(state, requested)

    result = execute_sync(
        state.schema,
        document,
        variable_values=variables,
        operation_name=operation_name,
        context_value=RequestContext(state),
    )
    actual = count_actual_cost(result.data) if result.data else 0
    actual = min(actual, requested)
    if state.settings.bucket_enabled:
        state.bucket.refund(requested - actual)
    state.points_charged += actual
    state.count("ok")

    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(e) for e in result.errors]
    payload["extensions"] = {"cost": cost_extension(state, requested, actual)}
    return web.Response(
        text=json.dumps(payload, ensure_ascii=False), content_type="application/json"
    )


def cost_extension(state: ShopifyState, requested: int, actual: int | None) -> dict[str, Any]:
    status = (
        state.bucket.status()
        if state.settings.bucket_enabled
        else {
            "maximumAvailable": float(state.settings.bucket_max),
            "currentlyAvailable": int(state.settings.bucket_max),
            "restoreRate": float(state.settings.restore_rate),
        }
    )
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}


def throttled(state: ShopifyState, requested: int) -> web.Response:
    """Return Shopify's throttled response: no data, error code THROTTLED, null actual cost."""
    state.count("throttled")
    payload = {
        "errors": [
            shopify_error(
                "Throttled", "THROTTLED", documentation="https://shopify.dev/api/usage/rate-limits"
            )
        ],
        "extensions": {"cost": cost_extension(state, requested, None)},
    }
    status = 429 if state.settings.throttle_with_429 else 200
    headers = {"Retry-After": "1.0"} if status == 429 else {}
    return web.json_response(payload, status=status, headers=headers)


async def cdn_handler(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        media = state.catalogue.media.get(int(request.match_info["id"]))
    except ValueError:
        media = None
    if media is None or media.filename != request.match_info["filename"]:
        raise web.HTTPNotFound()
    data = state.image_bytes(media)
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type=media.mime)


async def staged_upload_handler(request: web.Request) -> web.Response:
    """Accept a multipart form: every parameter of the target, then ``file`` as the last field."""
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    target = state.staged.targets.get(token)
    if target is None:
        return web.Response(status=403, text="<Error><Code>AccessDenied</Code></Error>")

    reader = await request.multipart()
    fields: dict[str, str] = {}
    data: bytes | None = None
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        if data is not None:
            return web.Response(
                status=400,
                text="<Error><Code>InvalidArgument</Code>"
                "<Message>file must be the last field</Message></Error>",
            )
        if part.name == "file":
            data = await part.read()
        else:
            fields[str(part.name)] = await part.text()
    missing = [p["name"] for p in target["parameters"] if fields.get(p["name"]) != p["value"]]
    if missing or data is None:
        reason = f"missing or wrong fields: {', '.join(missing)}" if missing else "no file field"
        return web.Response(
            status=400,
            text=f"<Error><Code>InvalidArgument</Code><Message>{reason}</Message></Error>",
        )
    state.staged.files[token] = (target["filename"], target["mime"], data)
    return web.Response(status=204)


async def staged_file_handler(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    stored = state.staged.files.get(request.match_info["token"])
    if stored is None or stored[0] != request.match_info["filename"]:
        raise web.HTTPNotFound()
    return web.Response(body=stored[2], content_type=stored[1])


async def bulk_file_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    try:
        path = state.bulk.path(int(request.match_info["number"]))
    except ValueError:
        raise web.HTTPNotFound() from None
    if not path.exists():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "application/jsonl"})
