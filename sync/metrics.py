"""Prometheus metrics served on `GET /metrics`.

Each daemon keeps its own registry (not the global one), so tests and the
demo can run several daemons in one process without their counters mixing.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.products = Gauge(
            "pergai_sync_products",
            "Product links per store and stage",
            ["store", "stage"],
            registry=self.registry,
        )
        self.jobs_running = Gauge(
            "pergai_sync_jobs_running",
            "PergAI generations requested and not yet finished",
            registry=self.registry,
        )
        self.webhooks = Counter(
            "pergai_sync_webhooks",
            "Webhook deliveries by store and outcome (accepted, duplicate, rejected)",
            ["store", "outcome"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "pergai_sync_api_errors",
            "Errors from remote APIs by service and kind",
            ["service", "kind"],
            registry=self.registry,
        )
        self.write_backs = Counter(
            "pergai_sync_write_backs",
            "Images written back to store listings",
            ["store"],
            registry=self.registry,
        )
        self.steps = Counter(
            "pergai_sync_steps",
            "Pipeline steps run, by step and outcome",
            ["step", "outcome"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
