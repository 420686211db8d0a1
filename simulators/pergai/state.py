"""In-memory records of the PergAI simulator and the lifecycle of its generations."""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulators.pergai.settings import PergaiSimSettings

# Share of the duration a generation spends pending before it is processing.
PENDING_SHARE = 0.2

FAILURE_REASONS = (
    "the product could not be separated from its background",
    "the model returned an empty image",
    "the scene prompt was rejected by the content filter",
)


def new_id() -> str:
    return str(uuid.uuid4())


def iso(moment: float) -> str:
    """Format a Unix time as ISO 8601 UTC with milliseconds, as JavaScript APIs do."""
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@dataclass
class StoredFile:
    """Image bytes served under a signed URL."""

    data: bytes
    content_type: str = "image/png"


@dataclass
class ProductRecord:
    id: str
    name: str
    category: str
    image_file: str  # path under /files
    created_at: float = field(default_factory=time.time)


@dataclass
class CategoryRecord:
    id: str
    name_en: str
    name_tr: str
    parent_id: str | None = None
    is_default: bool = False
    type: str | None = None
    created_at: float = field(default_factory=time.time)


@dataclass
class GenerationRecord:
    """A scene shot or a tool run; ``source_file`` is the product image it starts from."""

    id: str
    product_id: str
    source_file: str
    prompt: str
    duration: float
    will_fail: bool
    scene: str | None = None
    tool: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    failure_reason: str | None = None
    result_file: str | None = None
    created_at: float = field(default_factory=time.time)

    def status(self, now: float) -> str:
        """Compute the status from the time elapsed since creation."""
        elapsed = now - self.created_at
        if elapsed >= self.duration:
            return "failed" if self.will_fail else "completed"
        if elapsed >= self.duration * PENDING_SHARE:
            return "processing"
        return "pending"


@dataclass
class CollectionItemRecord:
    id: str
    generation_id: str
    created_at: float = field(default_factory=time.time)


@dataclass
class CollectionRecord:
    id: str
    name: str
    items: list[CollectionItemRecord] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)


@dataclass
class PergaiState:
    """Every record the simulator stores, for handlers and for tests to inspect.

    ``requests`` counts requests per endpoint ("POST /generations",
    "GET /generations/{id}"), faulted ones included.
    """

    settings: PergaiSimSettings
    products: dict[str, ProductRecord] = field(default_factory=dict)
    categories: dict[str, CategoryRecord] = field(default_factory=dict)
    generations: dict[str, GenerationRecord] = field(default_factory=dict)
    collections: dict[str, CollectionRecord] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    # Called with ("product" or "generation", id) once a create has stored its record and
    # before the response goes out; crash tests stop a daemon at that moment.
    on_record: Callable[[str, str], None] | None = None

    def __post_init__(self) -> None:
        self.random = random.Random(self.settings.seed)

    def clock(self) -> float:
        """Return the current Unix time; generation statuses are computed from it."""
        return time.time()

    def recorded(self, kind: str, record_id: str) -> None:
        if self.on_record is not None:
            self.on_record(kind, record_id)

    def count(self, endpoint: str) -> None:
        self.requests[endpoint] += 1
        self.requests["total"] += 1

    def add_generation(
        self,
        product: ProductRecord,
        prompt: str,
        *,
        scene: str | None = None,
        tool: str | None = None,
    ) -> GenerationRecord:
        """Record a new generation whose fate (success or failure) is drawn now."""
        will_fail = self.random.random() < self.settings.failure_rate
        generation = GenerationRecord(
            id=new_id(),
            product_id=product.id,
            source_file=product.image_file,
            prompt=prompt,
            duration=self.settings.generation_duration,
            will_fail=will_fail,
            scene=scene,
            tool=tool,
            failure_reason=self.random.choice(FAILURE_REASONS) if will_fail else None,
        )
        self.generations[generation.id] = generation
        self.recorded("generation", generation.id)
        return generation
