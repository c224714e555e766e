"""Organizations: the Task Force's members and observers, and others; an organization's
kind decides what its people may read (`knowledge_hub.access`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.models import Organization
from knowledge_hub.models import OrganizationKind
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import NotFound
from knowledge_hub.services import audit
from knowledge_hub.services import changed_fields
from knowledge_hub.services import race_safe
from knowledge_hub.services import transaction


def _organization_fields(
    acronym: str, name: str, kind: str, url: str | None, *, current: Organization | None = None
) -> dict[str, Any]:
    problems: dict[str, str] = {}
    acronym, name, url = acronym.strip(), name.strip(), (url or "").strip() or None
    if not acronym:
        problems["acronym"] = _("The acronym is missing.")
    elif len(acronym) > 40:
        problems["acronym"] = _("The acronym is longer than 40 characters.")
    else:
        clash = db.session.scalar(
            select(Organization).where(func.lower(Organization.acronym) == acronym.lower())
        )
        if clash is not None and clash is not current:
            problems["acronym"] = _(
                "There is already an organization %(acronym)s.", acronym=clash.acronym
            )
    if not name:
        problems["name"] = _("The name is missing.")
    elif len(name) > 300:
        problems["name"] = _("The name is longer than 300 characters.")
    if kind not in OrganizationKind._value2member_map_:
        problems["kind"] = _("The kind must be member, observer or other.")
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            problems["url"] = _("The web address must start with https:// or http://.")
    if problems:
        raise Invalid(" ".join(problems.values()), problems)
    return {"acronym": acronym, "name": name, "kind": OrganizationKind(kind), "url": url}


def _organization_state(org: Organization) -> dict[str, Any]:
    return {"acronym": org.acronym, "name": org.name, "kind": str(org.kind), "url": org.url}


@race_safe
def add_organization(
    actor: User, acronym: str, name: str, kind: str, url: str | None = None
) -> Organization:
    """Add an organization that records and accounts can name."""
    access.require(actor, "manage_vocabularies")
    with transaction() as session:
        org = Organization(**_organization_fields(acronym, name, kind, url))
        session.add(org)
        session.flush()
        audit(actor, "add_organization", org, after=_organization_state(org))
        return org


@race_safe
def update_organization(
    actor: User, organization_id: int, acronym: str, name: str, kind: str, url: str | None = None
) -> bool:
    """Change an organization's acronym, name, kind or address; False if nothing changed."""
    access.require(actor, "manage_vocabularies")
    with transaction():
        org = db.session.get(Organization, organization_id)
        if org is None:
            raise NotFound(_("There is no such organization."))
        fields = _organization_fields(acronym, name, kind, url, current=org)
        before = _organization_state(org)
        for key, value in fields.items():
            setattr(org, key, value)
        after = _organization_state(org)
        if before == after:
            return False
        audit(actor, "update_organization", org, **changed_fields(before, after))
        return True
