"""The tables of the mapping database.

Every constraint and index has an explicit name so that the Alembic
migrations and these models compare equal on SQLite and PostgreSQL. Times
are aware UTC datetimes; store ids are strings. Schema changes go through a
new migration in ``storage/migrations/versions``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import StrEnumType, UTCDateTime


class Stage(StrEnum):
    """The stage of a product link in its journey from the store to PergAI and back."""

    DISCOVERED = "discovered"
    SKIPPED = "skipped"
    PUSHED = "pushed"
    RENDERING = "rendering"
    WRITING = "writing"
    DONE = "done"
    FAILED = "failed"
    DELETED = "deleted"


class RenderStatus(StrEnum):
    """The status of one output (a scene or an image tool) of a product link."""

    REQUESTED = "requested"
    RUNNING = "running"
    COMPLETED = "completed"
    # Finished, waiting for a merchant to approve it before it is written.
    REVIEW = "review"
    WRITTEN = "written"
    FAILED = "failed"
    # Written once, then removed from the listing by `revert`.
    REVERTED = "reverted"
    # The store's source image changed before it was written; it never will be.
    SUPERSEDED = "superseded"


def _time(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _text(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(Text(), nullable=nullable))


class Store(SQLModel, table=True):
    """One configured store, with its catalogue cursor and the lease on polling it."""

    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("name", name="uq_stores_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    platform: str = Field(max_length=20)
    address: str = Field(max_length=500)
    # Catalogue cursor: the last updated_at seen and the product id that breaks ties.
    cursor_updated_at: datetime | None = _time()
    cursor_product_id: str | None = Field(default=None, max_length=255)
    # The daemon that polls this store, until lease_expires_at.
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_expires_at: datetime | None = _time()
    collection_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)


class ProductLink(SQLModel, table=True):
    """A store product (or one of its variants) and its journey through PergAI.

    ``variant_id`` is ``''`` for the product itself, never NULL, so the unique
    key (store, product, variant) holds on both databases.
    """

    __tablename__ = "product_links"
    __table_args__ = (
        UniqueConstraint(
            "store_id", "product_id", "variant_id", name="uq_product_links_store_product_variant"
        ),
        Index("ix_product_links_due", "stage", "next_attempt_at"),
        Index("ix_product_links_store_stage", "store_id", "stage"),
        Index("ix_product_links_lease_owner", "lease_owner"),
        # One PergAI product per link: two links adopting the same lost create is a bug.
        # NULLs do not clash in a unique index on SQLite or PostgreSQL.
        Index("ux_product_links_pergai_product", "pergai_product_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(
        sa_column=Column(Integer(), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False)
    )
    product_id: str = Field(max_length=255)
    variant_id: str = Field(default="", max_length=255)
    title: str = Field(sa_column=Column(Text(), nullable=False))
    product_type: str | None = Field(default=None, max_length=255)
    category_path: str = Field(default="", sa_column=Column(Text(), nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    store_status: str = Field(max_length=50)
    store_updated_at: datetime = _time(nullable=False)
    source_image_id: str | None = Field(default=None, max_length=255)
    source_image_url: str | None = _text()
    # Identity of the source image (see CatalogueItem.source_image); a change starts a cycle.
    source_fingerprint: str | None = _text()
    pergai_product_id: str | None = Field(default=None, max_length=255)
    stage: Stage = Field(sa_column=Column(StrEnumType(Stage), nullable=False))
    # Why the link is skipped or failed, in words a merchant can act on.
    reason: str | None = _text()
    attempts: int = Field(default=0)
    # When the engine should next work on the link; NULL means nothing is due.
    next_attempt_at: datetime | None = _time()
    last_error: str | None = _text()
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_expires_at: datetime | None = _time()
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)


class Render(SQLModel, table=True):
    """One requested output of a product link for one source image.

    Unique on (link, output key, source fingerprint), so the same output is
    never requested twice for the same source image.
    """

    __tablename__ = "renders"
    __table_args__ = (
        UniqueConstraint(
            "link_id", "output_key", "source_fingerprint", name="uq_renders_link_output_source"
        ),
        Index("ix_renders_due", "status", "next_attempt_at"),
        Index("ix_renders_generation_id", "generation_id"),
        Index("ix_renders_lease_owner", "lease_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(
        sa_column=Column(
            Integer(), ForeignKey("product_links.id", ondelete="CASCADE"), nullable=False
        )
    )
    # e.g. "scene:studio" or "tool:remove-bg"
    output_key: str = Field(max_length=100)
    source_fingerprint: str = Field(sa_column=Column(Text(), nullable=False))
    generation_id: str | None = Field(default=None, max_length=255)
    status: RenderStatus = Field(sa_column=Column(StrEnumType(RenderStatus), nullable=False))
    result_url: str | None = _text()
    store_image_id: str | None = Field(default=None, max_length=255)
    # Store image ids of the originals a `replace` write detached, for revert.
    detached_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON(), nullable=False))
    reason: str | None = _text()
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _time()
    last_error: str | None = _text()
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_expires_at: datetime | None = _time()
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)


class InboxDelivery(SQLModel, table=True):
    """A verified webhook delivery kept until the engine has processed it."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("store_id", "delivery_key", name="uq_webhook_inbox_store_key"),
        Index("ix_webhook_inbox_unprocessed", "processed_at", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    store_id: int = Field(
        sa_column=Column(Integer(), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False)
    )
    delivery_key: str = Field(max_length=255)
    topic: str = Field(max_length=100)
    received_at: datetime = _time(nullable=False)
    body: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    processed_at: datetime | None = _time()
    outcome: str | None = _text()
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_expires_at: datetime | None = _time()


class CategoryLink(SQLModel, table=True):
    """A store category path and the PergAI category it maps to."""

    __tablename__ = "category_links"
    __table_args__ = (
        UniqueConstraint("store_id", "category_path", name="uq_category_links_store_path"),
    )

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(
        sa_column=Column(Integer(), ForeignKey("stores.id", ondelete="CASCADE"), nullable=False)
    )
    category_path: str = Field(sa_column=Column(Text(), nullable=False))
    pergai_category_id: str = Field(max_length=255)
    updated_at: datetime = _time(nullable=False)


class DailyUsage(SQLModel, table=True):
    """PergAI jobs started for a store on one UTC day, counted against its budget."""

    __tablename__ = "daily_usage"

    store_id: int = Field(
        sa_column=Column(Integer(), ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    )
    day: date = Field(sa_column=Column(Date(), primary_key=True))
    used: int = Field(default=0)


class Event(SQLModel, table=True):
    """One line of the event log that `status` shows."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_at", "at"),
        Index("ix_events_store_at", "store_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(nullable=False)
    store_id: int | None = Field(
        default=None,
        sa_column=Column(Integer(), ForeignKey("stores.id", ondelete="CASCADE"), nullable=True),
    )
    link_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer(), ForeignKey("product_links.id", ondelete="SET NULL"), nullable=True
        ),
    )
    product_id: str | None = Field(default=None, max_length=255)
    action: str = Field(max_length=50)
    message: str = Field(sa_column=Column(Text(), nullable=False))
    # The daemon that wrote the line.
    owner: str | None = Field(default=None, max_length=255)


TABLES = (Store, ProductLink, Render, InboxDelivery, CategoryLink, DailyUsage, Event)
