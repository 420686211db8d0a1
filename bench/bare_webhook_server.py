"""A bare aiohttp webhook receiver: the ingest baseline for the end-to-end benchmark.

It reads each delivery's body and answers 200 with a small JSON body, doing
nothing else: no signature check, no database. It serves the daemon's
routes, ``POST /webhooks/{platform}/{store}`` and ``GET /healthz``, on
127.0.0.1 until SIGTERM.

    python bench/bare_webhook_server.py --port 8099
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def receive(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"status": "accepted"})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    arguments = parser.parse_args()

    app = web.Application()
    app.router.add_post("/webhooks/{platform}/{store}", receive)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=arguments.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
