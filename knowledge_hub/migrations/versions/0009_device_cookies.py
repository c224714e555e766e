"""Sign-in attempts name the trusted device they came from

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 12:00:00

A browser that signed in to an account before carries a signed device cookie; its
attempts are counted per device, so failures elsewhere do not lock its owner out. The
column holds the cookie's nonce, or NULL for an attempt from an untrusted device (every
attempt recorded before this revision).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_login_attempt_device"), ["device"], unique=False)


def downgrade():
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempt_device"))
        batch_op.drop_column("device")
