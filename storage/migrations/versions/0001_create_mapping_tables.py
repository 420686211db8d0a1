"""Create the mapping tables.

Revision ID: 0001
Revises:
Created: 2026-12-04 19:56:55.546326
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('cursor_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cursor_product_id', sa.String(length=255), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collection_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', name='uq_stores_name')
    )
    op.create_table('category_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('category_path', sa.Text(), nullable=False),
    sa.Column('pergai_category_id', sa.String(length=255), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'category_path', name='uq_category_links_store_path')
    )
    op.create_table('daily_usage',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', 'day')
    )
    op.create_table('product_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=255), nullable=False),
    sa.Column('variant_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('product_type', sa.String(length=255), nullable=True),
    sa.Column('category_path', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('store_status', sa.String(length=50), nullable=False),
    sa.Column('store_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_image_id', sa.String(length=255), nullable=True),
    sa.Column('source_image_url', sa.Text(), nullable=True),
    sa.Column('source_fingerprint', sa.Text(), nullable=True),
    sa.Column('pergai_product_id', sa.String(length=255), nullable=True),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'product_id', 'variant_id', name='uq_product_links_store_product_variant')
    )
    op.create_index('ix_product_links_due', 'product_links', ['stage', 'next_attempt_at'], unique=False)
    op.create_index('ix_product_links_lease_owner', 'product_links', ['lease_owner'], unique=False)
    op.create_index('ix_product_links_store_stage', 'product_links', ['store_id', 'stage'], unique=False)

    op.create_table('webhook_inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('delivery_key', sa.String(length=255), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('store_id', 'delivery_key', name='uq_webhook_inbox_store_key')
    )
    op.create_index('ix_webhook_inbox_unprocessed', 'webhook_inbox', ['processed_at', 'received_at'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.String(length=255), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['link_id'], ['product_links.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_events_at', 'events', ['at'], unique=False)
    op.create_index('ix_events_store_at', 'events', ['store_id', 'at'], unique=False)

    op.create_table('renders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('output_key', sa.String(length=100), nullable=False),
    sa.Column('source_fingerprint', sa.Text(), nullable=False),
    sa.Column('generation_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('result_url', sa.Text(), nullable=True),
    sa.Column('store_image_id', sa.String(length=255), nullable=True),
    sa.Column('detached_ids', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=255), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['link_id'], ['product_links.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('link_id', 'output_key', 'source_fingerprint', name='uq_renders_link_output_source')
    )
    op.create_index('ix_renders_due', 'renders', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_renders_generation_id', 'renders', ['generation_id'], unique=False)
    op.create_index('ix_renders_lease_owner', 'renders', ['lease_owner'], unique=False)



def downgrade() -> None:
    op.drop_index('ix_renders_lease_owner', table_name='renders')
    op.drop_index('ix_renders_generation_id', table_name='renders')
    op.drop_index('ix_renders_due', table_name='renders')

    op.drop_table('renders')
    op.drop_index('ix_events_store_at', table_name='events')
    op.drop_index('ix_events_at', table_name='events')

    op.drop_table('events')
    op.drop_index('ix_webhook_inbox_unprocessed', table_name='webhook_inbox')

    op.drop_table('webhook_inbox')
    op.drop_index('ix_product_links_store_stage', table_name='product_links')
    op.drop_index('ix_product_links_lease_owner', table_name='product_links')
    op.drop_index('ix_product_links_due', table_name='product_links')

    op.drop_table('product_links')
    op.drop_table('daily_usage')
    op.drop_table('category_links')
    op.drop_table('stores')
