"""Fixtures of the fault suites: the acceptance suite's database of each kind."""

from __future__ import annotations

from tests.acceptance.conftest import database_url

__all__ = ["database_url"]
