"""Allow each PergAI product on one product link only.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NOTE: a database where two links already share a PergAI product fails here;
    # clear pergai_product_id on one of them (`pergai-sync retry` pushes it again).
    op.create_index(
        "ux_product_links_pergai_product", "product_links", ["pergai_product_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_product_links_pergai_product", table_name="product_links")
