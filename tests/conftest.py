"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
POSTGRES_ENV = "PERGAI_SYNC_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The public reference material beside the checkout; tests that read it skip without it."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing; CI must run with shared/ beside the checkout")
        pytest.skip(f"public reference material not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The PostgreSQL URL for integration tests; skips (fails under CI) when it is unset."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("PERGAI_SYNC_REQUIRE_POSTGRES"):
            pytest.fail(f"{POSTGRES_ENV} is unset but PostgreSQL tests are required")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (a postgresql+asyncpg:// URL)")
    yield url
