"""The latest fixity check of each stored file."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow


class FixityOutcome(enum.StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    MISSING = "missing"
    UNREADABLE = "unreadable"


class FileCheck(db.Model):
    """When the bytes stored under a sha256 were last re-hashed, and what was found.

    One row per stored blob, rewritten at each check, so the oldest-checked files come
    first in the next run and an interrupted run resumes where it stopped.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[FixityOutcome] = mapped_column(str_enum(FixityOutcome))

    def __repr__(self) -> str:
        return f"<FileCheck {self.id} {self.sha256[:12]} {self.outcome}>"
