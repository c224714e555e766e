"""Extension singletons, bound to an application by create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from knowledge_hub.orm import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)  # batch: SQLite cannot ALTER
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
