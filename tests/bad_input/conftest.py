"""The simulators fixture for the bad-input CLI cases."""

from tests.acceptance.conftest import simulators

__all__ = ["simulators"]
