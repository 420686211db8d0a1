"""Run `pergai-sync run` as a subprocess for the benchmark and read its memory and CPU time.

The config points every store at the benchmark's simulators; secrets travel
in environment variables, as in production. Peak memory is the kernel's
high-water mark of resident memory (``VmHWM`` in ``/proc/PID/status``) and
CPU time is user plus system time from ``/proc/PID/stat``, so both are
Linux-only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp

from bench.e2e_simulators import BenchSimulators

WEBHOOK_SECRET = "bench-webhook-secret"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class DaemonTuning:
    """The `[daemon]` and `[pergai]` settings the benchmark varies; durations in seconds."""

    store_concurrency: int = 2
    pergai_concurrency: int = 4
    job_check_interval: float = 2.0
    drain_interval: float = 5.0
    poll_interval: float = 3600.0


def daemon_env(sims: BenchSimulators) -> dict[str, str]:
    return {
        "BENCH_PERGAI_KEY": sims.pergai_key,
        "BENCH_WC_KEY": sims.woocommerce.consumer_key,
        "BENCH_WC_SECRET": sims.woocommerce.consumer_secret,
        "BENCH_WC_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def store_table(name: str, sims: BenchSimulators, tuning: DaemonTuning) -> str:
    """One WooCommerce store with two outputs: a studio scene and a background removal."""
    return f"""[[stores]]
name = "{name}"
platform = "woocommerce"
address = "{sims.woocommerce_url}"
consumer_key = "${{BENCH_WC_KEY}}"
consumer_secret = "${{BENCH_WC_SECRET}}"
webhook_secret = "${{BENCH_WC_WEBHOOK_SECRET}}"
poll_interval = "{tuning.poll_interval:g}s"
write_back = "add"
collection = ""

[[stores.outputs]]
scene = "studio"
prompt = "{{title}}"

[[stores.outputs]]
tool = "remove-bg"
"""


def config_text(
    sims: BenchSimulators, database_url: str, port: int, tuning: DaemonTuning, stores: int = 1
) -> str:
    """A config with ``stores`` WooCommerce stores named store-0, store-1, ... on the simulator."""
    head = f"""[pergai]
api_key = "${{BENCH_PERGAI_KEY}}"
base_url = "{sims.pergai_api}"
max_concurrency = {tuning.pergai_concurrency}

[database]
url = "{database_url}"

[server]
host = "127.0.0.1"
port = {port}

[daemon]
drain_interval = "{tuning.drain_interval:g}s"
job_check_interval = "{tuning.job_check_interval:g}s"
concurrency_per_store = {tuning.store_concurrency}
shutdown_grace = "20s"
"""
    return "\n".join([head, *(store_table(f"store-{n}", sims, tuning) for n in range(stores))])


def proc_fields(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def daemon_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "sync", "run", "--config", str(config)]


def bare_server_command(port: int) -> list[str]:
    script = Path(__file__).with_name("bare_webhook_server.py")
    return [sys.executable, str(script), "--port", str(port)]


class ServerProcess:
    """A server subprocess (the daemon, or the bare webhook server) with its log in ``log_path``.

    Either must answer ``GET /healthz`` with 200 once it accepts requests.
    """

    def __init__(self, command: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.command = command
        self.env = env
        self.port = port
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Self:
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                env={**os.environ, **self.env},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        await self.wait_healthy()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def wait_healthy(self) -> None:
        """Wait until ``GET /healthz`` answers 200; raise with the log tail if it never does."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while loop.time() < deadline:
                assert self.process is not None
                if self.process.returncode is not None:
                    break
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server did not become healthy; log tail:\n{self.log_tail()}")

    def peak_rss_bytes(self) -> int:
        """Return the process's peak resident memory so far (``VmHWM``)."""
        kib = proc_fields(self.pid)["VmHWM"].split()[0]
        return int(kib) * 1024

    def cpu_seconds(self) -> float:
        """Return the user plus system CPU time the process has used so far."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        after_name = stat.rsplit(")", 1)[1].split()
        ticks = int(after_name[11]) + int(after_name[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        """Send SIGTERM and wait for a clean exit; raise with the log tail on a failure."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise RuntimeError(
                f"the server ignored SIGTERM; log tail:\n{self.log_tail()}"
            ) from None
        if code != 0:
            raise RuntimeError(f"the server exited with {code}; log tail:\n{self.log_tail()}")
