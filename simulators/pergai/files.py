"""Serve product and result images under signed URLs that expire."""

from __future__ import annotations

from aiohttp import web

from simulators.pergai.responses import state_of
from simulators.pergai.signing import check_signature


async def serve_file(request: web.Request) -> web.StreamResponse:
    """Return the file when the URL's signature is valid and not expired; 403 otherwise."""
    state = state_of(request)
    problem = check_signature(
        state.settings.signing_secret,
        request.path,
        request.query.get("expires", ""),
        request.query.get("signature", ""),
    )
    if problem is not None:
        message = f"signed URL {problem}; read the record again for a fresh URL"
        return web.json_response({"error": message, "message": message}, status=403)

    stored = state.files.get(request.raw_path.split("?", 1)[0]) or state.files.get(request.path)
    if stored is None:
        return web.json_response({"error": "file not found"}, status=404)
    return web.Response(body=stored.data, content_type=stored.content_type)
