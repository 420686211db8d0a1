"""Run the PergAI simulator: ``python -m simulators.pergai --port 8790``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from simulators.pergai.app import run
from simulators.pergai.settings import PergaiSimSettings, new_api_key


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.pergai", description="Run the PergAI API simulator."
    )
    parser.add_argument("--port", type=int, default=8790, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument("--key", default=None, help="API key to accept (default: a new pk_ key)")
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds a generation takes (default 5)"
    )
    parser.add_argument(
        "--failure-rate", type=float, default=0.0, help="share of generations that fail, 0 to 1"
    )
    parser.add_argument(
        "--envelope",
        choices=("bare", "data", "named"),
        default="bare",
        help="response shape: bare JSON, {'data': ...} or wrapped under the resource name",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = PergaiSimSettings(
        api_key=args.key or new_api_key(),
        generation_duration=args.duration,
        failure_rate=args.failure_rate,
        envelope=args.envelope,
    )

    def announce(base_url: str) -> None:
        print(f"PergAI simulator at {base_url}", flush=True)
        print(f"API key: {settings.api_key}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.port, settings, on_ready=announce))


if __name__ == "__main__":
    main()
