"""The declarative base shared by every model, the `db` extension built on it, and column
helpers.

`db` lives here, not in `knowledge_hub.extensions` (which hands it on to create_app),
so that the models can be imported before the other extensions exist."""

from __future__ import annotations

import enum
from datetime import UTC
from datetime import datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Enum
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from knowledge_hub.gc_safety import give_instance_states_their_dicts

# Before any model exists, so that no session in any process (server, commands, tests)
# makes an InstanceState without it: see gc_safety.
give_instance_states_their_dicts()

# Named constraints let Alembic alter them on every database, SQLite included.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Return the current time in UTC, as stored in every `_at` column."""
    return datetime.now(UTC).replace(tzinfo=None)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """Store a StrEnum as its plain value (a VARCHAR, no database enum type)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )
