"""Typed records of the PergAI API.

Attribute names are snake_case with the camelCase wire names as aliases.
Fields the API adds later are kept on the record (``extra="allow"``) rather
than rejected, so a new vendor field never breaks a sync.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PergaiRecord(BaseModel):
    """Base of every record: accepts wire names and Python names, keeps unknown fields."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class GenerationStatus(StrEnum):
    # NOTE: a status outside these four fails validation (InvalidResponseError) because
    # the API documents no others; a new vendor status needs adding here.
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (GenerationStatus.COMPLETED, GenerationStatus.FAILED)


class Product(PergaiRecord):
    """A merchant's source item; ``image_path`` is a signed URL of its reference image."""

    id: str
    name: str
    category: str | None = None
    image_path: str | None = Field(default=None, alias="imagePath")
    created_at: datetime | None = Field(default=None, alias="createdAt")

    @property
    def image_filename(self) -> str | None:
        """The file name at the end of ``image_path``, without the query string."""
        return url_filename(self.image_path)


class Category(PergaiRecord):
    """A node of the classification tree; ``is_default`` marks the system's own categories."""

    id: str
    name_en: str | None = Field(default=None, alias="nameEn")
    name_tr: str | None = Field(default=None, alias="nameTr")
    parent_category_id: str | None = Field(default=None, alias="parentCategoryId")
    is_default: bool = Field(default=False, alias="isDefault")
    type: str | None = None


class Generation(PergaiRecord):
    """An AI scene shot of a product; ``result_image_path`` is set once it has completed."""

    id: str
    product_id: str | None = Field(default=None, alias="productId")
    status: GenerationStatus
    result_image_path: str | None = Field(default=None, alias="resultImagePath")
    prompt: str | None = None
    scene: str | None = None
    # The image tool ("remove-bg", "upscale", "expand") when the record is a tool run.
    tool: str | None = None
    error_message: str | None = Field(default=None, alias="errorMessage")
    created_at: datetime | None = Field(default=None, alias="createdAt")

    @property
    def final(self) -> bool:
        return self.status.final


class CollectionCount(PergaiRecord):
    items: int = 0


class CollectionItem(PergaiRecord):
    """A generation placed in a collection, with a signed URL of its image."""

    id: str
    generation_id: str | None = Field(default=None, alias="generationId")
    image_url: str | None = Field(default=None, alias="imageUrl")
    created_at: datetime | None = Field(default=None, alias="createdAt")


class Collection(PergaiRecord):
    """An album of generations.

    A listed collection carries only its latest items as a preview; ``item_count``
    is the full count from ``_count.items``.
    """

    id: str
    name: str
    counts: CollectionCount | None = Field(default=None, alias="_count")
    items: list[CollectionItem] = Field(default_factory=list)
    created_at: datetime | None = Field(default=None, alias="createdAt")

    @property
    def item_count(self) -> int:
        return self.counts.items if self.counts is not None else len(self.items)


class Template(PergaiRecord):
    """A scene template; ``name`` is the value ``create_generation`` takes as ``scene``."""

    name: str
    id: str | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def accept_bare_name(cls, value: Any) -> Any:
        """Accept a template listed as a plain string, and one that has only an ``id``."""
        if isinstance(value, str):
            return {"name": value}
        if isinstance(value, dict) and "name" not in value and isinstance(value.get("id"), str):
            return {**value, "name": value["id"]}
        return value


class ToolResult(PergaiRecord):
    """The response of an image tool: a generation-like record to poll, or a finished image URL.

    ``id`` and ``status`` are set when the tool runs asynchronously (poll it with
    ``PergaiClient.wait_for_generation``); ``image_url`` or ``result_image_path``
    contains the finished image.
    """

    id: str | None = None
    status: GenerationStatus | None = None
    result_image_path: str | None = Field(default=None, alias="resultImagePath")
    image_url: str | None = Field(default=None, alias="imageUrl")

    @model_validator(mode="before")
    @classmethod
    def accept_alternative_url_names(cls, value: Any) -> Any:
        """Accept the finished image under ``url`` or ``resultUrl`` too."""
        if isinstance(value, dict) and "imageUrl" not in value:
            for name in ("url", "resultUrl", "image_url"):
                if isinstance(value.get(name), str):
                    return {**value, "imageUrl": value[name]}
        return value

    @property
    def finished_url(self) -> str | None:
        """The finished image's URL, or None while the tool is still running or has failed."""
        if self.image_url:
            return self.image_url
        if self.status in (None, GenerationStatus.COMPLETED):
            return self.result_image_path
        return None

    @property
    def needs_polling(self) -> bool:
        """True when the result is not there yet and the record can be read again by id."""
        return self.finished_url is None and self.id is not None and not self.failed

    @property
    def failed(self) -> bool:
        return self.status is GenerationStatus.FAILED


def url_filename(url: str | None) -> str | None:
    """Return the last path segment of ``url`` (decoded), ignoring the query string."""
    if not url:
        return None
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or None
