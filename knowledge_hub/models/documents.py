"""Documents, their language versions, their files, and the index outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from knowledge_hub.models.base import db
from knowledge_hub.models.base import str_enum
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.meetings import Meeting
from knowledge_hub.models.meetings import meeting_document
from knowledge_hub.models.people import Organization
from knowledge_hub.models.people import User


class DocumentKind(enum.StrEnum):
    PUBLICATION = "publication"
    ARCHIVE = "archive"


class AccessLevel(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    INTERNAL = "internal"


class DocumentStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    WITHDRAWN = "withdrawn"


class VariantStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SENT_BACK = "sent_back"


class OrganizationRole(enum.StrEnum):
    LEAD = "lead"
    CONTRIBUTOR = "contributor"


class DocType(db.Model):
    """A kind of document in the controlled list (report, meeting minutes, ...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    #: A retired type stays on the records that have it but is not offered for new ones.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<DocType {self.id} {self.code}>"


class Topic(db.Model):
    """An SSE theme or one of the 17 Sustainable Development Goals."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    is_sdg: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    #: A retired topic stays on the records that have it but is not offered for new ones.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<Topic {self.id} {self.code}>"


class Region(db.Model):
    """An ISO 3166-1 country or a UN M49 area; names come from CLDR at display time."""

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    is_area: Mapped[bool] = mapped_column(default=False)

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


document_topic = Table(
    "document_topic",
    db.Model.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id"), primary_key=True),
)

document_region = Table(
    "document_region",
    db.Model.metadata,
    Column("document_id", ForeignKey("document.id", ondelete="CASCADE"), primary_key=True),
    Column("region_code", ForeignKey("region.code"), primary_key=True),
)


class Document(db.Model):
    """One work, whatever its languages; its metadata lives here once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind))
    doc_type_id: Mapped[int | None] = mapped_column(ForeignKey("doc_type.id"))
    #: A date that may be partial: "2023", "2023-09" or "2023-09-05".
    date: Mapped[str | None] = mapped_column(String(10))
    authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    series: Mapped[str | None] = mapped_column(String(300))
    #: Identifiers by scheme: {"isbn": ..., "doi": ..., "un_symbol": ...}.
    identifiers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    meeting_number: Mapped[int | None] = mapped_column(Integer)
    meeting_date: Mapped[str | None] = mapped_column(String(10))
    access: Mapped[AccessLevel] = mapped_column(
        str_enum(AccessLevel), default=AccessLevel.PUBLIC, index=True
    )
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus), default=DocumentStatus.DRAFT, index=True
    )
    original_language: Mapped[str] = mapped_column(String(16))
    license: Mapped[str | None] = mapped_column(String(100))
    #: Counts changes to the original version's title, summary and files, so that a
    #: translation made from an earlier revision shows as out of date.
    original_revision: Mapped[int] = mapped_column(default=1, server_default="1")
    #: Written for the demonstration catalogue, not a real holding.
    is_sample: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    released_at: Mapped[datetime | None]
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: The criteria set version the record passed when it was released.
    criteria_version: Mapped[int | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    doc_type: Mapped[DocType | None] = relationship()
    variants: Mapped[list[Variant]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        order_by="Variant.id",
    )
    organization_links: Mapped[list[DocumentOrganization]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        order_by="DocumentOrganization.position",
    )
    topics: Mapped[list[Topic]] = relationship(secondary=document_topic, order_by=Topic.position)
    regions: Mapped[list[Region]] = relationship(secondary=document_region)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])
    meeting: Mapped[Meeting | None] = relationship(
        secondary=meeting_document, back_populates="documents"
    )

    @property
    def organizations(self) -> list[Organization]:
        return [link.organization for link in self.organization_links]

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date else None

    def variant_in(self, language: str) -> Variant | None:
        return next((v for v in self.variants if v.language == language), None)

    @property
    def original(self) -> Variant | None:
        return next((v for v in self.variants if v.is_original), None) or (
            self.variants[0] if self.variants else None
        )

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.ref}>"


class DocumentOrganization(db.Model):
    """An organization's part in a document, in the order they are credited."""

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    role: Mapped[OrganizationRole] = mapped_column(
        str_enum(OrganizationRole), default=OrganizationRole.LEAD
    )
    position: Mapped[int] = mapped_column(default=0)

    document: Mapped[Document] = relationship(back_populates="organization_links")
    organization: Mapped[Organization] = relationship(back_populates="document_links")


class Variant(db.Model):
    """One language version of a document: its title, summary and files."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(16))  # BCP 47
    title: Mapped[str] = mapped_column(String(1000))
    summary: Mapped[str | None] = mapped_column(Text)
    is_original: Mapped[bool] = mapped_column(default=False)
    status: Mapped[VariantStatus] = mapped_column(
        str_enum(VariantStatus), default=VariantStatus.SUBMITTED
    )
    #: For a translation: the original's revision it was made from (or confirmed against).
    source_revision: Mapped[int | None]
    translator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    document: Mapped[Document] = relationship(back_populates="variants")
    files: Mapped[list[StoredFile]] = relationship(
        back_populates="variant", cascade="all, delete-orphan", order_by="StoredFile.id"
    )

    __table_args__ = (UniqueConstraint("document_id", "language"),)

    @property
    def is_out_of_date(self) -> bool:
        """A translation of an earlier version of the original."""
        return (
            not self.is_original
            and self.source_revision is not None
            and self.source_revision < self.document.original_revision
        )

    @property
    def text(self) -> str:
        """The extracted text of every file of this version, in upload order."""
        return "\n\n".join(f.text for f in self.files if f.text)

    def __repr__(self) -> str:
        return f"<Variant {self.id} {self.language}>"


class StoredFile(db.Model):
    """A file of a language version, stored once by its sha256 under the upload folder."""

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variant.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    #: Sniffed from the bytes, never taken from the client.
    media_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(300))
    page_count: Mapped[int | None]
    text: Mapped[str | None] = mapped_column(Text)
    extraction_error: Mapped[str | None] = mapped_column(Text)
    #: How many pages of the text were read by OCR (and may hold its errors); None if none.
    ocr_pages: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    variant: Mapped[Variant] = relationship(back_populates="files")

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.original_name}>"


class PendingIndex(db.Model):
    """A language version whose index entry must be rewritten: the index outbox.

    Rows are written in the same transaction as the change and deleted only
    after the index commit, so a crash in between delays the update but
    never loses it.
    """

    # A drain deletes exactly the row ids it read, possibly after another drain already
    # deleted them; were an id handed out again (SQLite reuses the largest rowid once it
    # is deleted), that late delete would drop a newer change unread.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(index=True)  # no FK: the variant may be gone
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<PendingIndex {self.id} variant {self.variant_id}>"
