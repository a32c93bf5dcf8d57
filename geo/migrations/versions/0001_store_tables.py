"""The store's own tables: store_meta (version, written_at) and store_layers (the layers in order).

The layer tables themselves are created by each write (``PostGISStore.write``), one per layer.

Revision ID: 0001
Revises:
Create Date: 2026-10-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(schema: str = "corridors") -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "store_meta",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="store_meta_one_row"),
        schema=schema,
    )
    op.create_table(
        "store_layers",
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("spatial", sa.Boolean, nullable=False),
        schema=schema,
    )


def downgrade(schema: str = "corridors") -> None:
    op.drop_table("store_layers", schema=schema)
    op.drop_table("store_meta", schema=schema)
