"""Mail: the outgoing queue, saved searches and what their alerts have told

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:40:00.000000

Mail is queued in the transaction of the change that causes it and sent by
`hub send-mail`; a saved search keeps the words and filters typed, and the language
versions its alerts have named, so that none is named twice.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _state(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column(
            "state", _state("mailstate", "queued", "sending", "sent", "failed"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("is_logged_only", sa.Boolean(), nullable=False),
        sa.Column("queued_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outgoing_mail_message_id")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mail_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_mail_recipient"), ["recipient"], unique=False)
        batch_op.create_index(batch_op.f("ix_outgoing_mail_state"), ["state"], unique=False)
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("frequency", _state("alertfrequency", "daily", "weekly"), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("awaited_language", sa.String(length=16), nullable=True),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("since_variant_id", sa.Integer(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(), nullable=False),
        sa.Column("is_done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_saved_search_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_saved_search_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
        sa.UniqueConstraint("token", name=op.f("uq_saved_search_token")),
    )
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_search_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_saved_search_email"), ["email"])
        batch_op.create_index(batch_op.f("ix_saved_search_next_due_at"), ["next_due_at"])
        batch_op.create_index(batch_op.f("ix_saved_search_user_id"), ["user_id"])
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["outgoing_mail.id"],
            name=op.f("fk_alert_delivery_mail_id_outgoing_mail"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_search.id"],
            name=op.f("fk_alert_delivery_saved_search_id_saved_search"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery")),
        sa.UniqueConstraint(
            "saved_search_id", "variant_id", name=op.f("uq_alert_delivery_saved_search_id")
        ),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_delivery_saved_search_id"), ["saved_search_id"])
        batch_op.create_index(batch_op.f("ix_alert_delivery_variant_id"), ["variant_id"])


def downgrade():
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_variant_id"))
        batch_op.drop_index(batch_op.f("ix_alert_delivery_saved_search_id"))
    op.drop_table("alert_delivery")
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_search_user_id"))
        batch_op.drop_index(batch_op.f("ix_saved_search_next_due_at"))
        batch_op.drop_index(batch_op.f("ix_saved_search_email"))
        batch_op.drop_index(batch_op.f("ix_saved_search_document_id"))
    op.drop_table("saved_search")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_state"))
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_recipient"))
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_kind"))
    op.drop_table("outgoing_mail")
