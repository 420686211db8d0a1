"""Bad configs, environments, database URLs and keys given to the `pergai-sync` command.

The CLI runs as a subprocess, as a merchant runs it; each case asserts the
exit code and the exact error line. Run: `pytest tests/bad_input/test_cli.py -q`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.acceptance.harness import Simulators, config_text, free_port, write_config

CLI = [sys.executable, "-m", "sync"]
# Every address is a closed loopback port, so nothing leaves the machine.
GOOD = """[pergai]
api_key = "${PERGAI_API_KEY}"
base_url = "http://127.0.0.1:CLOSED/api/external/v1"

[database]
url = "sqlite+aiosqlite:///DBFILE"

[[stores]]
name = "acme"
platform = "shopify"
address = "acme.myshopify.com"
base_url = "http://127.0.0.1:CLOSED"
access_token = "${ACME_TOKEN}"

[[stores.outputs]]
scene = "studio"
"""
ENV = {"PERGAI_API_KEY": "pk_cli_case", "ACME_TOKEN": "shpat_cli_case"}


@dataclass(frozen=True)
class CliCase:
    name: str
    # (old, new) replacements applied to GOOD.
    edits: tuple[tuple[str, str], ...]
    code: int
    # Lines expected in stderr; "CONFIG" stands for the config file's path.
    lines: tuple[str, ...]
    env: dict[str, str] = field(default_factory=lambda: dict(ENV))
    command: str = "check"


CASES = [
    CliCase(
        "unknown store key",
        (
            (
                'access_token = "${ACME_TOKEN}"',
                'access_token = "${ACME_TOKEN}"\npoll_intervall = "5m"',
            ),
        ),
        2,
        (
            "error: CONFIG: stores[0].poll_intervall: unknown key 'poll_intervall'; "
            "did you mean 'poll_interval'?",
        ),
    ),
    CliCase(
        "misspelt write_back value",
        (
            (
                'access_token = "${ACME_TOKEN}"',
                'access_token = "${ACME_TOKEN}"\nwrite_back = "replac"',
            ),
        ),
        2,
        (
            "error: CONFIG: stores[0].write_back: invalid value 'replac'; allowed values: "
            "'add', 'featured', 'replace', 'review'; did you mean 'replace'?",
        ),
    ),
    CliCase(
        "misspelt output key",
        (('scene = "studio"', 'scen = "studio"'),),
        2,
        ("error: CONFIG: stores[0].outputs[0].scen: unknown key 'scen'; did you mean 'scene'?",),
    ),
    CliCase(
        "several typos at once",
        (
            (
                'access_token = "${ACME_TOKEN}"',
                'access_token = "${ACME_TOKEN}"\nwrite_back = "replac"\npoll_intervall = "5m"',
            ),
        ),
        2,
        (
            "CONFIG: stores[0].write_back: invalid value 'replac'; allowed values: "
            "'add', 'featured', 'replace', 'review'; did you mean 'replace'?",
            "CONFIG: stores[0].poll_intervall: unknown key 'poll_intervall'; "
            "did you mean 'poll_interval'?",
        ),
    ),
    CliCase(
        "missing env var",
        (),
        2,
        (
            "error: CONFIG: pergai.api_key: environment variable PERGAI_API_KEY is not set; "
            "export it before running pergai-sync",
        ),
        env={"ACME_TOKEN": "shpat_cli_case"},
    ),
    CliCase(
        "empty env var",
        (),
        2,
        (
            "error: CONFIG: pergai.api_key: environment variable PERGAI_API_KEY is empty; "
            "set it to the secret",
        ),
        env={"PERGAI_API_KEY": "", "ACME_TOKEN": "shpat_cli_case"},
    ),
    CliCase(
        "unsupported database scheme",
        (("sqlite+aiosqlite:///DBFILE", "mysql://root@127.0.0.1/pergai"),),
        2,
        (
            "error: CONFIG: database.url: unsupported database driver 'mysql'; "
            "allowed: sqlite+aiosqlite, postgresql+asyncpg",
        ),
    ),
    CliCase(
        "in-memory sqlite url",
        (("sqlite+aiosqlite:///DBFILE", "sqlite+aiosqlite:///:memory:"),),
        1,
        (
            "error: SQLite URL 'sqlite+aiosqlite:///:memory:' names no database file; in-memory "
            "and URI databases are not supported, give a file path: "
            "sqlite+aiosqlite:///relative/path.db, sqlite+aiosqlite:////absolute/path.db or "
            "postgresql+asyncpg://user:password@host:5432/database",
        ),
    ),
    CliCase(
        "unreachable postgres hides password",
        (
            (
                "sqlite+aiosqlite:///DBFILE",
                "postgresql+asyncpg://sync:hunter2secret@127.0.0.1:CLOSED/db",
            ),
        ),
        1,
        (
            "error: database operation failed on "
            "postgresql+asyncpg://sync:***@127.0.0.1:CLOSED/db: "
            "[Errno 111] Connect call failed ('127.0.0.1', CLOSED); check that the database is "
            "reachable and up to date (`pergai-sync db upgrade`)",
        ),
        command="status",
    ),
]


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PERGAI_API_KEY", "ACME_TOKEN")}
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
        check=False,
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_config(case: CliCase, tmp_path: Path) -> None:
    closed = str(free_port())
    config = tmp_path / "pergai-sync.toml"
    text = GOOD
    for old, new in case.edits:
        text = text.replace(old, new)
    text = text.replace("DBFILE", str(tmp_path / "db.sqlite")).replace("CLOSED", closed)
    config.write_text(text, encoding="utf-8")

    result = run_cli([case.command, "--config", str(config)], case.env)

    assert result.returncode == case.code, result.stderr[-2000:]
    for expected in case.lines:
        text = expected.replace("CONFIG", str(config)).replace("CLOSED", closed)
        assert text in result.stderr, result.stderr[-2000:]
    for secret in ("hunter2secret", *case.env.values()):
        if secret:
            assert secret not in result.stderr + result.stdout


KEY_MESSAGE = "PergAI rejected the API key (401)"


def refused_key_config(sims: Simulators, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    config = tmp_path / "pergai-sync.toml"
    database = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    write_config(config, config_text(sims, database, free_port(), platforms=("woocommerce",)), sims)
    env = {**os.environ, **sims.env(), "T_PERGAI_KEY": "pk_refused_by_pergai_0123456789"}
    return config, env


async def test_refused_key_check(simulators: Simulators, tmp_path: Path) -> None:
    config, env = refused_key_config(simulators, tmp_path)

    process = await asyncio.create_subprocess_exec(
        *CLI,
        "check",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    output = stdout.decode() + stderr.decode()

    assert process.returncode == 1, output
    assert KEY_MESSAGE in output
    assert "pk_refused_by_pergai_0123456789" not in output


async def test_refused_key_run(simulators: Simulators, tmp_path: Path) -> None:
    """The daemon keeps running and records the 401 as the product's reason."""
    config, env = refused_key_config(simulators, tmp_path)

    process = await asyncio.create_subprocess_exec(
        *CLI,
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(60):
            while not any(KEY_MESSAGE in line for line in seen):
                line = (await process.stderr.readline()).decode()
                assert line, "".join(seen)[-2000:]
                seen.append(line)
    finally:
        process.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(process.communicate(), 60)
    output = "".join(seen) + (rest or b"").decode()

    assert process.returncode == 0, output[-2000:]
    assert "pk_refused_by_pergai_0123456789" not in output
    assert "check the key in the config" in output or "api_key" in output
