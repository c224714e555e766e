"""The index outbox never hands out an id twice, on SQLite too

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 04:30:00

A drain deletes exactly the outbox rows it read. SQLite gives a new row the largest
rowid plus one, so once the last row is deleted its id comes back; a second drain that
had read the same row would then delete a newer change it never applied. AUTOINCREMENT
makes SQLite keep ids unique for the table's life. PostgreSQL sequences never reuse ids.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _rebuild_pending_index(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "pending_index", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade():
    _rebuild_pending_index(autoincrement=True)


def downgrade():
    _rebuild_pending_index(autoincrement=False)
