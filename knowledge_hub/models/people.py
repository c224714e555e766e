"""Organizations and the people who use the hub."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow

if TYPE_CHECKING:
    from knowledge_hub.models.documents import DocumentOrganization


class Role(enum.StrEnum):
    MEMBER = "member"
    STAFF = "staff"
    TRANSLATOR = "translator"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class OrganizationKind(enum.StrEnum):
    MEMBER = "member"
    OBSERVER = "observer"
    OTHER = "other"


class Organization(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    acronym: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[OrganizationKind] = mapped_column(
        str_enum(OrganizationKind), default=OrganizationKind.OTHER
    )
    url: Mapped[str | None] = mapped_column(String(500))

    users: Mapped[list[User]] = relationship(back_populates="organization")
    document_links: Mapped[list[DocumentOrganization]] = relationship(back_populates="organization")

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.acronym}>"


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Languages a translator works into (BCP 47), or a reader's preferences.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The interface language chosen by the user (one of the six), if any.
    interface_language: Mapped[str | None] = mapped_column(String(8))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Changes at every sign-in and password change; a session carrying an older token
    #: is no longer valid, which signs out stolen or forgotten sessions.
    session_token: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the session token."""
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginAttempt(db.Model):
    """A sign-in attempt, kept in the database so that every worker sees the same count."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
    #: The nonce of the device cookie that vouched for the browser (one that signed in to
    #: this account before), or None for an untrusted device: failures of a trusted
    #: device are counted per device, the others per account.
    device: Mapped[str | None] = mapped_column(String(64), index=True)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.id} {self.email}>"
