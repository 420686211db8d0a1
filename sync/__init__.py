"""pergai-sync: keeps online store catalogues and PergAI product photography in step."""

__version__ = "0.1.0"
