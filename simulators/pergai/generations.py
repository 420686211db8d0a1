"""Generation, tool and template endpoints; statuses move with time, computed on read."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.images import SCENE_COLOURS
from simulators.pergai.products import find_product
from simulators.pergai.render import SCALES, parse_ratio
from simulators.pergai.responses import (
    ApiError,
    ensure_result,
    generation_view,
    optional_text,
    read_body,
    reply_list,
    reply_record,
    required_text,
    sign,
    state_of,
)
from simulators.pergai.seed import templates
from simulators.pergai.state import GenerationRecord, PergaiState, ProductRecord

TOOLS = ("remove-bg", "upscale", "expand")


def find_generation(state: PergaiState, generation_id: str) -> GenerationRecord:
    generation = state.generations.get(generation_id)
    if generation is None:
        raise ApiError(404, f"generation {generation_id} not found")
    return generation


def check_credits(state: PergaiState) -> None:
    settings = state.settings
    if settings.out_of_credits:
        raise ApiError(
            settings.credits_status, "Insufficient credits: the account has no credits left"
        )


async def list_generations(request: web.Request) -> web.Response:
    generations = list(state_of(request).generations.values())
    views = [await generation_view(request, generation) for generation in generations]
    return reply_list(request, "generations", views)


async def get_generation(request: web.Request) -> web.Response:
    generation = find_generation(state_of(request), request.match_info["id"])
    return reply_record(request, "generation", await generation_view(request, generation))


async def create_generation(request: web.Request) -> web.Response:
    """Start a scene shot of a product with one of the templates."""
    state = state_of(request)
    body = await read_body(request)
    product = product_from(state, body)
    scene = required_text(body, "scene")
    if scene not in SCENE_COLOURS:
        raise ApiError(400, f"scene {scene!r} is not a template; GET /templates lists them")
    check_credits(state)

    custom = optional_text(body, "customPrompt")
    prompt = f"{product.name} photographed in a {scene} scene" + (f". {custom}" if custom else "")
    generation = state.add_generation(product, prompt, scene=scene)
    generation.options = {
        "aiProvider": optional_text(body, "aiProvider") or "nano-banana",
        "aspectRatio": optional_text(body, "aspectRatio") or "1:1",
    }
    return reply_record(request, "generation", await generation_view(request, generation), 201)


async def run_tool(request: web.Request) -> web.Response:
    """Run remove-bg, upscale or expand as a generation-like record (or at once, if set)."""
    state = state_of(request)
    tool = request.match_info["tool"]
    if tool not in TOOLS:
        raise ApiError(404, f"tool {tool!r} not found; the tools are {', '.join(TOOLS)}")

    body = await read_body(request)
    product = product_from(state, body)
    options = tool_options(tool, body)
    check_credits(state)

    generation = state.add_generation(product, f"{tool} of {product.name}", tool=tool)
    generation.options = options
    if state.settings.tools_finish_at_once:
        return await finished_tool(request, generation)
    return reply_record(request, "generation", await generation_view(request, generation), 201)


async def finished_tool(request: web.Request, generation: GenerationRecord) -> web.Response:
    """Return a tool run's finished image URL, with no record to poll."""
    state = state_of(request)
    generation.duration = 0.0
    generation.will_fail = False
    url = sign(request, await ensure_result(state, generation))
    return web.json_response({"imageUrl": url, "tool": generation.tool}, status=201)


def product_from(state: PergaiState, body: dict[str, Any]) -> ProductRecord:
    return find_product(state, required_text(body, "productId"))


def tool_options(tool: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate a tool's parameters and return them with the documented defaults."""
    if tool == "upscale":
        scale = body.get("scale", "1x")
        if scale not in SCALES:
            raise ApiError(400, f"scale {scale!r} must be one of {', '.join(SCALES)}")
        return {"scale": scale, "aiProvider": body.get("aiProvider", "nano-banana-2")}

    if tool == "expand":
        ratio = required_text(body, "ratio")
        try:
            parse_ratio(ratio)
        except ValueError as error:
            raise ApiError(400, f"ratio {ratio!r} must look like 16:9") from error
        return {
            "ratio": ratio,
            "resolution": optional_text(body, "resolution"),
            "aiProvider": body.get("aiProvider", "nano-banana"),
        }
    return {}


async def list_templates(request: web.Request) -> web.Response:
    return reply_list(request, "templates", templates())
