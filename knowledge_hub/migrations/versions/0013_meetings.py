"""The Task Force's meetings, the organizations present and the documents of each

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:30:00.000000

A document belongs to one meeting at most; the link is a table of its own, so the
document table is left as it is.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("is_virtual", sa.Boolean(), nullable=False),
        sa.Column("participants_count", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("number", name=op.f("uq_meeting_number")),
    )
    op.create_table(
        "meeting_organization",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("is_observer", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_organization_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_meeting_organization_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint(
            "meeting_id", "organization_id", name=op.f("pk_meeting_organization")
        ),
    )
    op.create_table(
        "meeting_document",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_meeting_document_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_document_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_meeting_document")),
    )
    with op.batch_alter_table("meeting_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_document_meeting_id"), ["meeting_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("meeting_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_document_meeting_id"))
    op.drop_table("meeting_document")
    op.drop_table("meeting_organization")
    op.drop_table("meeting")
