"""The Whoosh index of one application: opening it, writing to it through the outbox,
rebuilding it, and the searcher kept open and refreshed per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload
from whoosh import index as whoosh_index
from whoosh.index import Index
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.writing import CLEAR
from whoosh.writing import IndexWriter

from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import Variant
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import build_columns
from knowledge_hub.search.indexer import index_fields
from knowledge_hub.search.schema import build_schema

log = logging.getLogger(__name__)

BATCH = 500


class IndexBusy(Exception):
    """Another writer holds the index lock; the work waits in the outbox."""


def _variant_loader() -> tuple:
    return (
        selectinload(Variant.files),
        selectinload(Variant.document).options(
            selectinload(Document.doc_type),
            selectinload(Document.topics),
            selectinload(Document.regions),
            selectinload(Document.organization_links).selectinload(
                DocumentOrganization.organization
            ),
        ),
    )


def each_variant(session: Session) -> Iterator[Variant]:
    """Every language version with what its index entry needs, a batch at a time, so that
    memory stays flat on large catalogues."""
    last_id = 0
    while True:
        variants = session.scalars(
            select(Variant)
            .where(Variant.id > last_id)
            .order_by(Variant.id)
            .limit(BATCH)
            .options(*_variant_loader())
        ).all()
        if not variants:
            return
        yield from variants
        last_id = variants[-1].id
        session.expunge_all()


class SearchIndex:
    """One application's index folder and its open searcher."""

    def __init__(self, directory: Path, languages: Sequence[str], lock_timeout: float = 2.0):
        self.directory = Path(directory)
        self.languages = tuple(languages)
        self.schema = build_schema(self.languages)
        self.lock_timeout = lock_timeout
        self._ix: Index | None = None
        self._searcher: Searcher | None = None
        self._columns: Columns | None = None
        self._lock = threading.RLock()

    # --- opening and writing

    @property
    def ix(self) -> Index:
        if self._ix is None:
            with self._lock:
                if self._ix is None:
                    self._ix = self._open_or_create()
        return self._ix

    def _open_or_create(self) -> Index:
        self.directory.mkdir(parents=True, exist_ok=True)
        if whoosh_index.exists_in(str(self.directory)):
            # Our schema, not the pickled copy: analyzers are code and may have moved on.
            return whoosh_index.open_dir(str(self.directory), schema=self.schema)
        return whoosh_index.create_in(str(self.directory), self.schema)

    def writer(self) -> IndexWriter:
        """A plain writer that waits briefly for the lock (buffered writers lose work)."""
        try:
            return self.ix.writer(timeout=self.lock_timeout)
        except LockError as e:
            raise IndexBusy("The search index is being written by another process.") from e

    @contextmanager
    def writing(self, **commit_options: object) -> Iterator[IndexWriter]:
        writer = self.writer()
        try:
            yield writer
        except BaseException:
            # A failed write would otherwise keep the lock until the process ends.
            writer.cancel()
            raise
        writer.commit(**commit_options)

    def apply_pending(self, session: Session) -> int:
        """Write the queued versions to the index, then clear them from the outbox.

        Returns how many versions were written; 0 when the lock is busy, in which case
        the queue waits for the next drain or `hub reindex`.
        """
        done = 0
        while True:
            if session.scalar(select(PendingIndex.id).limit(1)) is None:
                return done  # nothing queued: no need to wait for the lock
            try:
                writer = self.writer()
            except IndexBusy:
                session.rollback()
                log.warning("index busy: the outbox waits for the next drain")
                return done
            # Read the outbox and the versions only once the lock is held: a drain that
            # read before waiting for the lock could write an older state of a version
            # over the newer one that the previous lock holder wrote.
            try:
                rows = session.execute(
                    select(PendingIndex.id, PendingIndex.variant_id)
                    .order_by(PendingIndex.id)
                    .limit(BATCH)
                ).all()
                variant_ids = {variant_id for __, variant_id in rows}
                variants = session.scalars(
                    select(Variant)
                    .where(Variant.id.in_(variant_ids))
                    .options(*_variant_loader())
                    .execution_options(populate_existing=True)
                ).all()
                for variant in variants:
                    writer.update_document(**index_fields(variant, self.languages))
                for gone in variant_ids - {v.id for v in variants}:
                    writer.delete_by_term("variant_id", str(gone))
            except BaseException:
                writer.cancel()
                raise
            if not rows:
                writer.cancel()
                session.rollback()
                return done
            writer.commit()
            # Deleted only after the index commit (at least once; again is harmless), and
            # only the rows read: a row queued since holds a change we may not have read.
            session.execute(delete(PendingIndex).where(PendingIndex.id.in_([i for i, __ in rows])))
            session.commit()
            done += len(variant_ids)

    def reindex(self, session: Session) -> int:
        """Rebuild every entry from the database; readers see the old index until the end."""
        started_with = session.scalar(select(PendingIndex.id).order_by(PendingIndex.id.desc()))
        count = 0
        with self.writing(mergetype=CLEAR) as writer:
            for variant in each_variant(session):
                writer.add_document(**index_fields(variant, self.languages))
                count += 1
        if started_with is not None:
            session.execute(delete(PendingIndex).where(PendingIndex.id <= started_with))
        session.commit()
        return count

    def stale_entries(self, session: Session) -> dict[str, list[int]]:
        """Compare the index with the database: versions missing, stale or orphaned."""
        indexed: dict[int, str] = {}
        with self.searching() as (searcher, __):
            for fields in searcher.all_stored_fields():
                indexed[int(fields["variant_id"])] = fields.get("stamp", "")
        missing, stale = [], []
        for variant in each_variant(session):
            entry = indexed.pop(variant.id, None)
            if entry is None:
                missing.append(variant.id)
            elif entry != index_fields(variant, self.languages)["stamp"]:
                stale.append(variant.id)
        return {"missing": missing, "stale": stale, "orphaned": sorted(indexed)}

    # --- reading

    @contextmanager
    def searching(self) -> Iterator[tuple[Searcher, Columns]]:
        """The process's searcher, refreshed if the index changed, with its columns.

        One searcher serves every request of the process; the lock keeps threads from
        sharing its file handles at the same moment.
        """
        with self._lock:
            searcher = self._current_searcher()
            yield searcher, self._current_columns(searcher)

    def _current_searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = self.ix.searcher()
        elif not self._searcher.up_to_date():
            # A new searcher, not refresh(): refresh() reuses the readers of unchanged
            # segments together with their old deletion lists, so an entry replaced
            # since (a withdrawn record's old version) would still match.
            self._searcher.close()
            self._searcher = self.ix.searcher()
            self._columns = None
        return self._searcher

    def _current_columns(self, searcher: Searcher) -> Columns:
        if self._columns is None:
            self._columns = build_columns(searcher)
        return self._columns

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None
            self._columns = None
            self._ix = None
