"""Usage statistics: COUNTER counts of views and downloads per record and month

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:40:00.000000

Counts only; the double-click table holds a daily-salted hash of each visitor for about
30 seconds, never an address or a browser's name.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "usage_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column(
            "metric",
            sa.Enum("view", "download", name="usagemetric", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_usage_count_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_count")),
        sa.UniqueConstraint(
            "document_id",
            "month",
            "metric",
            "language",
            "media_type",
            name=op.f("uq_usage_count_document_id"),
        ),
    )
    with op.batch_alter_table("usage_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_count_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_usage_count_month"), ["month"])
    op.create_table(
        "usage_click",
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("counts_again_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("visitor", "item", name=op.f("pk_usage_click")),
    )
    with op.batch_alter_table("usage_click", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_usage_click_counts_again_at"), ["counts_again_at"])


def downgrade():
    with op.batch_alter_table("usage_click", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_click_counts_again_at"))
    op.drop_table("usage_click")
    with op.batch_alter_table("usage_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_count_month"))
        batch_op.drop_index(batch_op.f("ix_usage_count_document_id"))
    op.drop_table("usage_count")
