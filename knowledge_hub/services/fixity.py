"""Fixity and consistency: re-hash the stored files, compare the index with the database,
find blobs no record uses and temporary files an interrupted upload left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy import select

from knowledge_hub import extraction
from knowledge_hub import search
from knowledge_hub.extensions import db
from knowledge_hub.models import Document
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Variant
from knowledge_hub.models.base import utcnow
from knowledge_hub.models.fixity import FileCheck
from knowledge_hub.models.fixity import FixityOutcome
from knowledge_hub.services import texts
from knowledge_hub.services import transaction
from knowledge_hub.services.documents import blob_store

#: A temporary file or an unused blob younger than this may belong to an upload still
#: in progress, so it is not reported.
GRACE_SECONDS = 15 * 60

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class FileOutcome:
    """What re-hashing the bytes stored under one sha256 found, and whose file it is."""

    sha256: str
    outcome: FixityOutcome
    checked_at: datetime
    files: tuple[str, ...]

    @property
    def is_problem(self) -> bool:
        return self.outcome != FixityOutcome.MATCH

    def __str__(self) -> str:
        return f"{self.outcome}: {self.sha256} ({'; '.join(self.files)})"


@dataclass
class FixityReport:
    """The outcome of one `hub check` run."""

    #: Files re-hashed in this run, in the order they were checked.
    checked: list[FileOutcome] = field(default_factory=list)
    #: Files not reached in this run (a limit or the time ran out).
    remaining: int = 0
    #: Problems found by earlier runs on files not re-checked in this one.
    earlier_problems: list[FileOutcome] = field(default_factory=list)
    #: Index-versus-database differences: "missing", "stale", "orphaned" variant ids.
    index: dict[str, list[int]] = field(default_factory=dict)
    #: Why the index could not be read at all, when it could not (rebuild it).
    index_unreadable: str | None = None
    #: The index was written with an older schema: searches miss what it lacks.
    index_schema_outdated: bool = False
    #: Versions queued in the index outbox (not a problem: the next drain applies them).
    pending: int = 0
    orphan_blobs: list[str] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
    #: Temporary files of processes that ended mid-write, removed by this run.
    removed_temp_files: list[Path] = field(default_factory=list)
    #: Files whose text was not read in full: information for people, not a problem of
    #: the store (the file is kept whole; the release gate asks for text where it must).
    without_text: list[texts.FileText] = field(default_factory=list)

    @property
    def file_problems(self) -> list[FileOutcome]:
        return [c for c in self.checked if c.is_problem] + self.earlier_problems

    @property
    def ok(self) -> bool:
        return not (
            self.file_problems
            or self.index_unreadable
            or self.index_schema_outdated
            or any(self.index.values())
            or self.orphan_blobs
            or self.temp_files
        )

    def lines(self) -> list[str]:
        """The report, one line per finding, then a summary."""
        out = [str(c) for c in self.file_problems]
        if self.index_unreadable:
            out.append(f"index unreadable: {self.index_unreadable}")
        if self.index_schema_outdated:
            out.append("index written with an older schema: rebuild it with `hub reindex`")
        for kind, ids in self.index.items():
            for variant_id in ids:
                out.append(f"index {kind}: language version {variant_id}")
        out += [f"orphan blob: {sha256}" for sha256 in self.orphan_blobs]
        out += [f"leftover temporary file: {path}" for path in self.temp_files]
        out += [f"removed temporary file of an ended process: {p}" for p in self.removed_temp_files]
        out += self._text_lines()
        matched = sum(1 for c in self.checked if not c.is_problem)
        out.append(
            f"Files: {len(self.checked)} checked, {matched} match, "
            f"{len(self.file_problems)} with problems, {self.remaining} not reached."
        )
        if self.index_unreadable:
            index_summary = "unreadable, rebuild it with `hub reindex`"
        else:
            index_summary = ", ".join(
                f"{len(self.index.get(k, []))} {k}" for k in ("missing", "stale", "orphaned")
            )
        out.append(f"Index: {index_summary}; {self.pending} waiting in the outbox.")
        out.append(
            f"Store: {len(self.orphan_blobs)} orphan blobs, "
            f"{len(self.temp_files)} leftover temporary files."
        )
        out.append(self._text_summary())
        out.append("No problems found." if self.ok else "Problems found.")
        return out

    def _by_reason(self) -> dict[extraction.TextState, list[texts.FileText]]:
        groups: dict[extraction.TextState, list[texts.FileText]] = {s: [] for s in texts.REASONS}
        for each in self.without_text:
            groups[each.outcome.state].append(each)
        return groups

    def _text_lines(self) -> list[str]:
        """The files whose text was not read in full, grouped by the reason."""
        if not self.without_text:
            return []
        out = ["Files whose text was not extracted in full (not a fixity problem):"]
        for state, files in self._by_reason().items():
            if files:
                out.append(f"  {texts.REASONS[state]} ({len(files)}):")
                out += [f"    {each}" for each in files]
        return out

    def _text_summary(self) -> str:
        groups = self._by_reason()
        partial = len(groups.pop(extraction.TextState.PARTIAL))
        without = sum(len(files) for files in groups.values())
        reasons = ", ".join(f"{texts.REASONS[s]}: {len(files)}" for s, files in groups.items())
        files = "file" if without == 1 else "files"
        return f"Text: {without} {files} without text ({reasons}), {partial} extracted in part."


def _names_by_sha256(sha256s: list[str]) -> dict[str, list[str]]:
    """Who uses each blob: the file name, the record's reference and the language."""
    names: dict[str, list[str]] = {}
    rows = db.session.execute(
        select(StoredFile.sha256, StoredFile.original_name, Document.ref, Variant.language)
        .join(Variant, StoredFile.variant_id == Variant.id)
        .join(Document, Variant.document_id == Document.id)
        .where(StoredFile.sha256.in_(sha256s))
        .order_by(StoredFile.id)
    )
    for sha256, name, ref, language in rows:
        names.setdefault(sha256, []).append(f"{name}, {ref} [{language}]")
    return names


def _stored_sha256s_oldest_checked_first() -> list[str]:
    """Every blob a record uses: never-checked first, then by the time of the last check."""
    # Explicit about NULL, since the databases disagree on where it sorts (SQLite first,
    # PostgreSQL last).
    rows = db.session.execute(
        select(StoredFile.sha256, FileCheck.checked_at)
        .outerjoin(FileCheck, FileCheck.sha256 == StoredFile.sha256)
        .group_by(StoredFile.sha256, FileCheck.checked_at)
        .order_by(FileCheck.checked_at.is_(None).desc(), FileCheck.checked_at, StoredFile.sha256)
    )
    return [sha256 for sha256, __ in rows]


def check_files(
    limit: int | None = None,
    max_seconds: float | None = None,
    progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[FileOutcome], int]:
    """Re-hash stored files, oldest-checked first, committing each outcome as it is known.

    Stops after `limit` files or once `max_seconds` have passed; returns the outcomes and
    how many files were not reached. An interrupted run loses at most the file in hand.
    """
    store = blob_store()
    queue = _stored_sha256s_oldest_checked_first()
    if limit is not None:
        queue_now = queue[: max(limit, 0)]
    else:
        queue_now = queue
    started = clock()
    outcomes: list[FileOutcome] = []
    for sha256 in queue_now:
        if max_seconds is not None and outcomes and clock() - started >= max_seconds:
            break
        outcome = FixityOutcome(store.verify(sha256))
        now = utcnow()
        with transaction() as session:
            check = session.scalar(select(FileCheck).where(FileCheck.sha256 == sha256))
            if check is None:
                session.add(FileCheck(sha256=sha256, checked_at=now, outcome=outcome))
            else:
                check.checked_at = now
                check.outcome = outcome
        outcomes.append(FileOutcome(sha256, outcome, now, ()))
        if progress is not None:
            progress(len(outcomes), len(queue_now))
    names = _names_by_sha256([o.sha256 for o in outcomes if o.is_problem])
    outcomes = [
        FileOutcome(o.sha256, o.outcome, o.checked_at, tuple(names.get(o.sha256, ())))
        for o in outcomes
    ]
    return outcomes, len(queue) - len(outcomes)


def earlier_problems(exclude: set[str]) -> list[FileOutcome]:
    """Problems standing from earlier checks of files still in use."""
    checks = db.session.scalars(
        select(FileCheck)
        .where(
            FileCheck.outcome != FixityOutcome.MATCH,
            FileCheck.sha256.in_(select(StoredFile.sha256)),
        )
        .order_by(FileCheck.checked_at, FileCheck.sha256)
    ).all()
    checks = [c for c in checks if c.sha256 not in exclude]
    names = _names_by_sha256([c.sha256 for c in checks])
    return [
        FileOutcome(c.sha256, c.outcome, c.checked_at, tuple(names.get(c.sha256, ())))
        for c in checks
    ]


def index_differences() -> tuple[dict[str, list[int]], int]:
    """Compare the index with the database both ways, leaving out queued versions.

    Raises search.IndexUnreadable when the index cannot be opened or read through.
    """
    pending = set(db.session.scalars(select(PendingIndex.variant_id).distinct()))
    try:
        differences = search.get_index().stale_entries(db.session)
    finally:
        db.session.rollback()  # the comparison read in batches; end its transaction
    return {k: [i for i in ids if i not in pending] for k, ids in differences.items()}, len(pending)


def _old_enough(path: Path, grace_seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime >= grace_seconds
    except FileNotFoundError:  # finished or cleaned up meanwhile
        return False


def orphan_blobs(grace_seconds: float = GRACE_SECONDS) -> list[str]:
    """Blobs in the store that no stored file refers to."""
    store = blob_store()
    used = set(db.session.scalars(select(StoredFile.sha256).distinct()))
    return sorted(
        sha256
        for sha256 in store
        if sha256 not in used and _old_enough(store.path(sha256), grace_seconds)
    )


def leftover_temp_files(grace_seconds: float = GRACE_SECONDS) -> list[Path]:
    """Temporary files of uploads that never finished, though their writer still runs
    (or ran on another host): a stuck upload, or one the hub cannot tell about."""
    return [p for p in blob_store().leftover_temp_files() if _old_enough(p, grace_seconds)]


def run_check(
    limit: int | None = None,
    max_seconds: float | None = None,
    progress: ProgressCallback | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> FixityReport:
    """Everything `hub check` looks at, in one report."""
    report = FixityReport()
    report.checked, report.remaining = check_files(limit, max_seconds, progress)
    report.earlier_problems = earlier_problems({c.sha256 for c in report.checked})
    try:
        report.index, report.pending = index_differences()
        report.index_schema_outdated = not search.get_index().schema_is_current()
    except search.IndexUnreadable as e:
        report.index_unreadable = str(e)
        report.pending = db.session.scalar(select(func.count(PendingIndex.id))) or 0
    report.orphan_blobs = orphan_blobs(grace_seconds)
    report.removed_temp_files = blob_store().remove_abandoned_temp_files()
    report.temp_files = leftover_temp_files(grace_seconds)
    report.without_text = texts.files_without_full_text()
    return report


def latest_checks(limit: int = 200) -> list[FileOutcome]:
    """The problems first, then the most recently checked files, for the staff report."""
    problems = earlier_problems(set())
    recent = db.session.scalars(
        select(FileCheck)
        .where(FileCheck.outcome == FixityOutcome.MATCH)
        .order_by(FileCheck.checked_at.desc(), FileCheck.sha256)
        .limit(limit)
    ).all()
    return problems + [FileOutcome(c.sha256, c.outcome, c.checked_at, ()) for c in recent]


@dataclass(frozen=True)
class FixitySummary:
    """Counts for the staff report: files in use, how many were ever checked, and when."""

    files: int
    never_checked: int
    problems: int
    oldest_check: datetime | None
    latest_check: datetime | None


def summary() -> FixitySummary:
    in_use = select(StoredFile.sha256).distinct().subquery()
    files = db.session.scalar(select(func.count()).select_from(in_use)) or 0
    checked = select(FileCheck).where(FileCheck.sha256.in_(select(in_use.c.sha256))).subquery()
    checked_count, oldest, latest = db.session.execute(
        select(func.count(), func.min(checked.c.checked_at), func.max(checked.c.checked_at))
    ).one()
    problems = db.session.scalar(
        select(func.count()).select_from(checked).where(checked.c.outcome != FixityOutcome.MATCH)
    )
    return FixitySummary(files, files - checked_count, problems or 0, oldest, latest)
