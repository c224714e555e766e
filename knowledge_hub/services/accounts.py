"""People and their roles."""

from __future__ import annotations

from argon2 import PasswordHasher
from flask_babel import gettext as _
from sqlalchemy import select

from knowledge_hub import access
from knowledge_hub.extensions import db
from knowledge_hub.i18n.messages import translate
from knowledge_hub.metadata import normalize_language
from knowledge_hub.models import Organization
from knowledge_hub.models import Role
from knowledge_hub.models import User
from knowledge_hub.services import Invalid
from knowledge_hub.services import transaction

# Argon2id sized for a 2-core server: 64 MiB and 3 passes take about 0.1 s, slow enough
# to hurt guessing and fast enough for a login under load.
password_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)

#: The account that command-line work is recorded under; it has no password.
SYSTEM_EMAIL = "system@knowledge-hub.invalid"

MIN_PASSWORD_LENGTH = 10


def create_user(
    actor: User | None,
    email: str,
    name: str,
    password: str,
    roles: list[str],
    organization: str | None = None,
    languages: list[str] | None = None,
) -> User:
    """Create an account; `actor` None means the command line, which acts as the system."""
    if actor is not None:
        access.require(actor, "manage_users")
    with transaction() as session:
        problems: dict[str, str] = {}
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            problems["email"] = _("%(email)s is not an e-mail address.", email=repr(email))
        elif session.scalar(select(User).where(User.email == email)):
            problems["email"] = _("There is already an account for %(email)s.", email=email)
        if len(password) < MIN_PASSWORD_LENGTH:
            problems["password"] = _(
                "The password needs at least %(count)s characters.", count=MIN_PASSWORD_LENGTH
            )
        bad_roles = [r for r in roles if r not in Role._value2member_map_]
        if bad_roles:
            allowed = ", ".join(r.value for r in Role)
            problems["role"] = _(
                "Unknown role %(roles)s: use %(allowed)s.", roles=", ".join(bad_roles), allowed=allowed
            )
        org = None
        if organization:
            org = session.scalar(
                select(Organization).where(Organization.acronym.ilike(organization.strip()))
            )
            if org is None:
                problems["organization"] = _(
                    "Unknown organization %(acronym)s.", acronym=repr(organization)
                )
        normalized_languages = []
        for tag in languages or []:
            try:
                normalized_languages.append(normalize_language(tag))
            except ValueError as e:
                problems["language"] = translate(e.args[0])
        if problems:
            raise Invalid(" ".join(problems.values()), problems)
        user = User(
            email=email,
            name=name.strip() or email,
            password_hash=password_hasher.hash(password),
            roles=sorted(set(roles)),
            organization=org,
            languages=normalized_languages,
        )
        session.add(user)
        session.flush()
        return user


def system_user() -> User:
    """The account command-line work is recorded under, created on first use."""
    user = db.session.scalar(select(User).where(User.email == SYSTEM_EMAIL))
    if user is None:
        with transaction() as session:
            user = User(
                email=SYSTEM_EMAIL,
                name="Command line",
                password_hash=None,
                roles=[Role.STAFF.value, Role.REVIEWER.value, Role.ADMIN.value],
            )
            session.add(user)
    return user
