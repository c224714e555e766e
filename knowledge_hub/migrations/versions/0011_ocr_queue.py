"""The OCR queue: pages of scanned PDFs waiting to be read, and the OCR mark on a file

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 22:55:00.000000

Each page's text is committed with its state, so a worker killed mid-page loses nothing;
a file whose text was partly read by OCR says how many pages were.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ocr_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "waiting",
                "working",
                "done",
                "failed",
                name="ocrstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stored_file_id"],
            ["stored_file.id"],
            name=op.f("fk_ocr_page_stored_file_id_stored_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ocr_page")),
        sa.UniqueConstraint("stored_file_id", "page", name=op.f("uq_ocr_page_stored_file_id")),
    )
    with op.batch_alter_table("ocr_page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ocr_page_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ocr_page_stored_file_id"), ["stored_file_id"], unique=False
        )
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocr_pages", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_column("ocr_pages")
    with op.batch_alter_table("ocr_page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocr_page_stored_file_id"))
        batch_op.drop_index(batch_op.f("ix_ocr_page_state"))
    op.drop_table("ocr_page")
