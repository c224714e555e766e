"""The UNTFSSE Knowledge Hub: a document repository searchable in six languages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from knowledge_hub import cli
from knowledge_hub import i18n
from knowledge_hub import search
from knowledge_hub import web
from knowledge_hub.config import Config
from knowledge_hub.config import first_start_choice
from knowledge_hub.config import instance_secret_key
from knowledge_hub.extensions import babel
from knowledge_hub.extensions import csrf
from knowledge_hub.extensions import db
from knowledge_hub.extensions import login_manager
from knowledge_hub.extensions import mail
from knowledge_hub.extensions import migrate
from knowledge_hub.web import addresses


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the Knowledge Hub application."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)  # instance/config.py
        app.config.from_prefixed_env()  # FLASK_*; DATABASE_URL is read in Config
    else:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.config["SECRET_KEY_FILE"]))
    app.config["FIRST_START"] = first_start_choice(app.config)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Config.MIGRATIONS_DIR))
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    addresses.init_app(app)
    search.init_app(app)
    web.register_blueprints(app)
    app.cli.add_command(cli.hub)
    return app
