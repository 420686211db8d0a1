"""A local stand-in of the PergAI external API, with switchable envelopes and faults."""

from simulators.faults import FAULTS_KEY, Faults
from simulators.pergai.app import create_app, run
from simulators.pergai.responses import STATE_KEY
from simulators.pergai.settings import API_PREFIX, PergaiSimSettings, new_api_key
from simulators.pergai.state import PergaiState

__all__ = [
    "API_PREFIX",
    "FAULTS_KEY",
    "STATE_KEY",
    "Faults",
    "PergaiSimSettings",
    "PergaiState",
    "create_app",
    "new_api_key",
    "run",
]
