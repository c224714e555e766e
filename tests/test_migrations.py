"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from knowledge_hub import create_app
from knowledge_hub.extensions import db
from tests.conftest import make_config


def test_migrations_match_the_models(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))
    with app.app_context():
        upgrade(directory=str(app.config["MIGRATIONS_DIR"]))
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
