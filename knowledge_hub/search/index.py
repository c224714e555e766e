"""The Whoosh index of one application: its generations, writing to it through the
outbox, rebuilding it beside the one in use, and the searcher kept open per process.

INDEX_DIR holds one folder per generation of the index (`gen-<UTC time>-<pid>`) and a
pointer file, CURRENT, naming the generation in use. `reindex` builds a complete new
generation from the database while the current one goes on answering searches, then
replaces the pointer in one atomic step; each process notices at its next search or
write and moves over. An install made before generations keeps its index directly in
INDEX_DIR; that folder counts as the current generation until the first `reindex`.

A rebuild runs in several processes, each reading shares of the versions from the
database and writing one segment with the BuildingWriter below, which writes what
Whoosh's own writer would, several times faster.
"""

from __future__ import annotations

import errno
import heapq
import logging
import marshal
import multiprocessing
import multiprocessing.context
import os
import re
import shutil
import struct
import threading
import time
import traceback
from collections import Counter
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload
from sqlalchemy.pool import NullPool
from whoosh import index as whoosh_index
from whoosh.analysis import CharsetFilter
from whoosh.analysis import CompositeAnalyzer
from whoosh.analysis import LowercaseFilter
from whoosh.analysis import RegexTokenizer
from whoosh.analysis import StemFilter
from whoosh.analysis import StopFilter
from whoosh.analysis import Token
from whoosh.analysis import Tokenizer
from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.codec.whoosh3 import W3PostingsWriter
from whoosh.fields import FieldType
from whoosh.filedb.filestore import FileStorage
from whoosh.formats import Frequency
from whoosh.formats import Positions
from whoosh.index import Index
from whoosh.index import LockError
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.system import pack_uint
from whoosh.util import random_name
from whoosh.util.filelock import FileLock
from whoosh.util.filelock import try_for
from whoosh.util.numeric import byte_to_length
from whoosh.util.numeric import length_to_byte
from whoosh.writing import IndexWriter
from whoosh.writing import SegmentWriter

from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import Variant
from knowledge_hub.search.analyzers import ArabicNormalizeFilter
from knowledge_hub.search.analyzers import NFKCFilter
from knowledge_hub.search.columns import Columns
from knowledge_hub.search.columns import build_columns
from knowledge_hub.search.indexer import index_fields
from knowledge_hub.search.mapped import read_compound_parts_in_place
from knowledge_hub.search.schema import SCHEMA_VERSION
from knowledge_hub.search.schema import build_schema

log = logging.getLogger(__name__)

# Each worker would otherwise hold a private copy of every segment part it reads.
read_compound_parts_in_place()

BATCH = 500

#: The file naming the generation in use, and the prefix of generation folders.
POINTER = "CURRENT"
GENERATION_PREFIX = "gen-"
#: Held for the whole of a rebuild: a second `reindex` waits for it, and a drain that
#: finds it held leaves its work in the outbox at once instead of waiting for the lock.
REINDEX_LOCK = "REINDEX_LOCK"
#: Whoosh's own name for the index inside a folder, and so for its files and lock.
INDEX_NAME = "MAIN"
WRITE_LOCK = f"{INDEX_NAME}_WRITELOCK"
LEGACY_TOC = re.compile(rf"^_{INDEX_NAME}_[0-9]+\.toc$")
#: The file of a generation naming the schema version it was written with.
SCHEMA_FILE = "SCHEMA_VERSION"
LEGACY_SEGMENT_FILE = re.compile(rf"^{INDEX_NAME}_[0-9a-z]+\.[A-Za-z0-9_.]+$")

#: How long `reindex` waits for a drain in progress to let go of the index lock.
REINDEX_LOCK_WAIT = 60.0
#: Memory each building process may fill with postings before it writes them to disk.
BUILD_LIMIT_MB = 384
#: The versions are cut into this many shares a building process, dealt out in turn.
SHARES_PER_PROCESS = 8
#: More building processes than this rarely pay: each holds its own postings in memory
#: and the database has to feed them all.
MAX_DEFAULT_PROCESSES = 4
ProgressCallback = Callable[[int, int], None]


def default_processes() -> int:
    """One building process per CPU this process may run on, up to a few."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_DEFAULT_PROCESSES))


class IndexBusy(Exception):
    """Another writer holds the index lock; the work waits in the outbox."""


class IndexUnreadable(Exception):
    """The index on disk cannot be opened or read; `hub reindex` rebuilds it."""

    def __init__(self, where: Path, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(
            f"The search index in {where} cannot be read ({reason}); rebuild it with `hub reindex`."
        )


@contextmanager
def _unreadable_as(folder: Path) -> Iterator[None]:
    """Turn a failure to open or read the index in `folder` into IndexUnreadable."""
    try:
        yield
    except (IndexBusy, IndexUnreadable):
        raise
    except Exception as e:
        reason = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        raise IndexUnreadable(folder, reason) from e


class _Storage(FileStorage):
    """A generation's folder, which can close the files a failed open left open.

    Whoosh leaves a file open when a damaged table of contents or segment fails to
    open (and retries the segment ten times); without this they would stay open until
    collected.

    Each thread keeps its own list: a request and the outbox drainer of one process open
    the same generation at once, and one thread's failure must close only the files it
    opened, never a file another thread is reading.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._opening = threading.local()

    def open_file(self, name: str, **kwargs: object) -> object:
        f = super().open_file(name, **kwargs)
        opened = getattr(self._opening, "files", None)
        if opened is not None:
            opened.append(f)
        return f

    @contextmanager
    def closing_files_on_failure(self) -> Iterator[None]:
        outer = getattr(self._opening, "files", None)
        self._opening.files = opened = []
        try:
            yield
        except BaseException:
            for f in opened:
                if not f.is_closed:
                    try:
                        f.close()
                    except Exception:  # the failure being raised matters more
                        pass
            raise
        else:
            if outer is not None:
                outer.extend(opened)  # an enclosing open that fails closes these too
        finally:
            self._opening.files = outer


def _open_index(folder: Path, schema: object) -> Index:
    """Open the index in a generation's folder with our schema (not the pickled copy:
    analyzers are code and may have moved on)."""
    storage = _Storage(str(folder))
    with storage.closing_files_on_failure():
        return whoosh_index.FileIndex(storage, schema=schema, indexname=INDEX_NAME)


@contextmanager
def _closing_files_on_failure(ix: Index) -> Iterator[None]:
    storage = ix.storage
    if isinstance(storage, _Storage):
        with storage.closing_files_on_failure():
            yield
    else:
        yield


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


def _variants_after(session: Session, last_id: int, until: int | None) -> list[Variant]:
    """The next batch of versions after last_id (up to until), with what their index
    entries need."""
    query = select(Variant).where(Variant.id > last_id)
    if until is not None:
        query = query.where(Variant.id <= until)
    return list(
        session.scalars(query.order_by(Variant.id).limit(BATCH).options(*_variant_loader()))
    )


def each_variant(session: Session, after: int = 0, until: int | None = None) -> Iterator[Variant]:
    """Every language version (with after < id <= until) with what its index entry
    needs, a batch at a time, so that memory stays flat on large catalogues."""
    last_id = after
    while variants := _variants_after(session, last_id, until):
        yield from variants
        last_id = variants[-1].id
        session.expunge_all()


# --- generation folders and the pointer


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder_and_files(folder: Path) -> None:
    """Make a finished generation durable before the pointer names it."""
    for path in folder.iterdir():
        if path.is_file():
            _fsync(path)
    _fsync(folder)


def _lock_file(folder: Path, name: str) -> FileLock:
    return FileStorage(str(folder)).lock(name)


def _create_generation(folder: Path, schema: object) -> None:
    """An empty index in a new generation's folder, with its schema version noted."""
    whoosh_index.create_in(str(folder), schema)
    (folder / SCHEMA_FILE).write_text(f"{SCHEMA_VERSION}\n", encoding="utf-8")


def written_schema_version(folder: Path) -> int:
    """The schema version a generation was written with (0: before versions)."""
    try:
        return int((folder / SCHEMA_FILE).read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return 0


def _has_legacy_index(folder: Path) -> bool:
    """Tell whether a Whoosh index lies directly in the folder (installs made before
    generations), by its table-of-contents files alone, without reading them."""
    try:
        return any(LEGACY_TOC.match(name) for name in os.listdir(folder))
    except FileNotFoundError:
        return False


class SearchIndex:
    """One application's index folder, its current generation and its open searcher."""

    def __init__(
        self,
        directory: Path,
        languages: Sequence[str],
        lock_timeout: float = 2.0,
        search_seconds: float | None = None,
    ):
        self.directory = Path(directory)
        #: The time budget of one search (query.search); None: no limit.
        self.search_seconds = search_seconds
        self.languages = tuple(languages)
        self.schema = build_schema(self.languages)
        self.lock_timeout = lock_timeout
        self._ix: Index | None = None
        self._generation: Path | None = None
        #: What the pointer file looked like when it was last read (None: no pointer).
        self._pointer_seen: tuple[int, int, int] | None = None
        self._searcher: Searcher | None = None
        self._searcher_ix: Index | None = None
        self._columns: Columns | None = None
        self._lock = threading.RLock()

    # --- which generation is current

    @property
    def pointer(self) -> Path:
        return self.directory / POINTER

    def _pointer_signature(self) -> tuple[int, int, int] | None:
        # The pointer is only ever replaced by a rename, so a new inode means a switch;
        # a stat costs far less than reading the file on every search.
        try:
            st = os.stat(self.pointer)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _read_pointer(self) -> tuple[Path | None, tuple[int, int, int] | None]:
        """The folder the pointer names (None without a pointer), and the signature of
        the pointer file read."""
        try:
            with open(self.pointer, encoding="utf-8") as f:
                st = os.fstat(f.fileno())
                name = f.read().strip()
        except FileNotFoundError:
            return None, None
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise IndexUnreadable(self.directory, f"{POINTER} names no generation: {name!r}")
        return self.directory / name, (st.st_ino, st.st_mtime_ns, st.st_size)

    def current_generation(self) -> Path | None:
        """The folder of the generation in use as the disk says now: the one the pointer
        names, INDEX_DIR itself for an install made before generations, or None."""
        folder, __ = self._read_pointer()
        if folder is not None:
            return folder
        return self.directory if _has_legacy_index(self.directory) else None

    def _new_generation_folder(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        folder = self.directory / f"{GENERATION_PREFIX}{stamp}-{os.getpid()}"
        folder.mkdir(parents=True)
        return folder

    def _publish(self, folder: Path, only_if_none: bool = False) -> bool:
        """Point CURRENT at a finished generation, atomically and durably.

        With only_if_none, the pointer is created only where there is none yet, so that
        of two processes creating the first generation at once, one wins. Returns
        whether the pointer now names this folder.
        """
        temporary = self.directory / f"{POINTER}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(folder.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            if only_if_none:
                try:
                    os.link(temporary, self.pointer)
                except FileExistsError:
                    return False
            else:
                os.replace(temporary, self.pointer)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync(self.directory)
        return True

    def _create_first_generation(self) -> None:
        folder = self._new_generation_folder()
        _create_generation(folder, self.schema)
        _fsync_folder_and_files(folder)
        if not self._publish(folder, only_if_none=True):
            shutil.rmtree(folder, ignore_errors=True)  # another process was first

    def schema_is_current(self) -> bool:
        """Whether the generation in use was written with this schema version (an
        install made before generations, or before versions, was not): one that was
        not lacks fields that searches read, and must be rebuilt (`hub reindex`)."""
        folder = self.current_generation()
        if folder is None:
            return True  # the first generation, made at the first use, will be
        return written_schema_version(folder) == SCHEMA_VERSION

    # --- opening

    @property
    def ix(self) -> Index:
        """The current generation's index, reopened when the pointer has moved."""
        with self._lock:
            if self._ix is None or self._pointer_signature() != self._pointer_seen:
                self._open_current()
            assert self._ix is not None
            return self._ix

    def _open_current(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        folder, signature = self._read_pointer()
        if folder is None:
            if not _has_legacy_index(self.directory):
                try:
                    self._create_first_generation()
                except OSError:
                    # A rebuild that published first may have removed ours half made.
                    if not self.pointer.exists():
                        raise
                folder, signature = self._read_pointer()
            if folder is None:
                folder = self.directory
        with _unreadable_as(folder):
            if not folder.is_dir():
                raise FileNotFoundError(errno.ENOENT, "no such generation folder", str(folder))
            ix = _open_index(folder, self.schema)
        self._ix, self._generation, self._pointer_seen = ix, folder, signature

    def _is_still_current(self, folder: Path) -> bool:
        return self.current_generation() == folder

    # --- writing

    def _reindex_is_running(self) -> bool:
        lock = _lock_file(self.directory, REINDEX_LOCK)
        try:
            if lock.acquire(blocking=False):
                lock.release()
                return False
        except FileNotFoundError:
            return False  # no index folder yet, so no rebuild either
        return True

    def writer(self) -> IndexWriter:
        """A plain writer on the current generation that waits briefly for the lock
        (buffered writers lose work).

        Once it holds the lock it checks that its generation is still the current one:
        a rebuild switches generations while holding the old one's lock, so a writer
        that got the lock after a switch writes nothing there and tries the new one.
        """
        deadline = time.monotonic() + self.lock_timeout
        while True:
            if self._reindex_is_running():
                raise IndexBusy("The search index is being rebuilt.")
            with self._lock:
                ix, folder = self.ix, self._generation
            assert folder is not None
            try:
                with _unreadable_as(folder), _closing_files_on_failure(ix):
                    try:
                        writer = ix.writer(timeout=max(0.0, deadline - time.monotonic()))
                    except LockError as e:
                        raise IndexBusy(
                            "The search index is being written by another process."
                        ) from e
            except IndexUnreadable:
                if self._is_still_current(folder):
                    raise
                continue  # retired (and removed) while we opened it
            if self._is_still_current(folder):
                return writer
            writer.cancel()

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
            nothing_queued = session.scalar(select(PendingIndex.id).limit(1)) is None
            # End the read at once: where a transaction keeps the snapshot of its first
            # statement (SQLite, or PostgreSQL above READ COMMITTED), reading the outbox
            # from it once the lock is ours could write a version's older state over the
            # one that the previous lock holder just indexed.
            session.rollback()
            if nothing_queued:
                return done  # no need to wait for the lock
            try:
                writer = self.writer()
            except IndexBusy:
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
            # exactly the rows read: a row committed since, even one with a smaller id
            # (PostgreSQL hands out ids before commit), holds a change we may not have read.
            self._forget_queued(session, [row_id for row_id, __ in rows])
            done += len(variant_ids)

    @staticmethod
    def _forget_queued(session: Session, row_ids: Sequence[int]) -> None:
        for start in range(0, len(row_ids), BATCH * 4):
            chunk = row_ids[start : start + BATCH * 4]
            session.execute(delete(PendingIndex).where(PendingIndex.id.in_(chunk)))
        session.commit()

    # --- rebuilding

    @contextmanager
    def _holding_generation_lock(self, folder: Path | None) -> Iterator[None]:
        """Hold a generation's write lock without opening its index, which may be broken."""
        if folder is None or not folder.is_dir():
            yield  # nothing there that anyone could write to
            return
        lock = _lock_file(folder, WRITE_LOCK)
        if not try_for(lock.acquire, timeout=REINDEX_LOCK_WAIT, delay=0.1):
            raise IndexBusy("The search index is being written by another process.")
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _holding_reindex_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = _lock_file(self.directory, REINDEX_LOCK)
        lock.acquire(blocking=True)  # a second rebuild waits for the first
        try:
            yield
        finally:
            lock.release()

    def reindex(
        self,
        session: Session,
        processes: int = 1,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Build a new generation from the database and switch to it; searches go on
        against the current one meanwhile. Returns how many versions were indexed.

        No change is lost: the current generation's lock is held from before the
        outbox is read until after the switch, so changes committed meanwhile stay in
        the outbox, and are applied to the new generation once it is current.
        """
        with self._holding_reindex_lock():
            while True:
                retiring = self._generation_to_retire()
                with self._holding_generation_lock(retiring):
                    if self._generation_to_retire() != retiring:
                        continue  # a first generation appeared meanwhile
                    # Changes queued so far are committed, so the rebuild reads them;
                    # read them in a fresh transaction, not a snapshot from before the lock.
                    session.rollback()
                    queued = list(session.scalars(select(PendingIndex.id)))
                    session.commit()
                    folder = self._new_generation_folder()
                    try:
                        count = self._build(folder, session, processes, progress)
                        _fsync_folder_and_files(folder)
                    except BaseException:
                        shutil.rmtree(folder, ignore_errors=True)
                        raise
                    self._publish(folder)
                    self._remove_generations_except(folder, retiring)
                break
        self._forget_queued(session, queued)
        self.apply_pending(session)
        log.info("reindexed %d versions into %s", count, folder.name)
        return count

    def _generation_to_retire(self) -> Path | None:
        try:
            return self.current_generation()
        except IndexUnreadable:
            return None  # a pointer that names nothing: the rebuild replaces it

    def _remove_generations_except(self, current: Path, previous: Path | None) -> None:
        """Remove retired generations, keeping the one just retired: other processes may
        still have searchers open on it until their next search."""
        keep = {current, previous}
        for path in self.directory.iterdir():
            if path.name.startswith(GENERATION_PREFIX) and path.is_dir() and path not in keep:
                self._remove_if_unused(path, lambda folder=path: shutil.rmtree(folder))
        if self.directory not in keep and _has_legacy_index(self.directory):
            self._remove_if_unused(self.directory, self._remove_legacy_files)

    def _remove_if_unused(self, folder: Path, remove: Callable[[], None]) -> None:
        # A writer that still holds a retired generation's lock is about to find out it
        # is stale; leave that folder to the next rebuild.
        lock = _lock_file(folder, WRITE_LOCK)
        if not lock.acquire(blocking=False):
            return
        try:
            remove()
        except OSError:
            log.warning("could not remove the retired index generation %s", folder, exc_info=True)
        finally:
            lock.release()

    def _remove_legacy_files(self) -> None:
        for name in os.listdir(self.directory):
            path = self.directory / name
            if path.is_file() and (LEGACY_TOC.match(name) or LEGACY_SEGMENT_FILE.match(name)):
                path.unlink(missing_ok=True)

    def _build(
        self,
        folder: Path,
        session: Session,
        processes: int,
        progress: ProgressCallback | None,
    ) -> int:
        """Write every version into the empty generation in `folder`, one segment per
        process.

        The versions are cut into shares dealt out in turn (process k takes shares k,
        k + n, k + 2n, ...), so that each process gets a like mix of old and new
        records. The deal is fixed, not first come first served, so that the same
        catalogue rebuilt with the same number of processes gives the same segments,
        and a score is summed over its fields in the same order (its last bits can
        differ from one segment layout to another, see test_coordination.py).
        """
        _create_generation(folder, self.schema)
        ids = list(session.scalars(select(Variant.id).order_by(Variant.id)))
        session.commit()
        total = len(ids)
        processes = max(1, min(processes, total))
        if progress is not None:
            progress(0, total)
        if processes == 1:
            report = (lambda n: progress(n, total)) if progress is not None else None
            written = _write_part(folder, self.languages, session, [(0, None)], report)
            segments = [written]
        else:
            shares = _split(ids, min(processes * SHARES_PER_PROCESS, -(-total // BATCH)))
            engine = session.get_bind()
            assert isinstance(engine, Engine)
            url = engine.url.render_as_string(hide_password=False)
            segments = self._write_parts_in_processes(
                folder, url, processes, shares, total, progress
            )
        ix = whoosh_index.open_dir(str(folder), schema=self.schema)
        writer = SegmentWriter(ix)
        # Whoosh's own multiprocess writer ends the same way: the parts become the
        # segments of the generation's first table of contents.
        writer._close_segment()
        writer._commit_toc([s for s, count in segments if count])
        writer._finish()
        return sum(count for __, count in segments)

    def _write_parts_in_processes(
        self,
        folder: Path,
        database_url: str,
        processes: int,
        shares: list[tuple[int, int | None]],
        total: int,
        progress: ProgressCallback | None,
    ) -> list[tuple[Segment, int]]:
        context = _process_context()
        children = []
        try:
            for k in range(processes):
                receiver, sender = context.Pipe(duplex=False)
                child = context.Process(
                    target=_write_part_in_child,
                    args=(sender, database_url, folder, self.languages, shares[k::processes]),
                    name="knowledge-hub-reindex",
                    daemon=True,
                )
                child.start()
                sender.close()
                children.append((child, receiver))
            results: dict[Connection, tuple[Segment, int]] = {}
            done: dict[Connection, int] = {}
            waiting = [receiver for __, receiver in children]
            while waiting:
                for receiver in wait(waiting):
                    assert isinstance(receiver, Connection)
                    try:
                        message = receiver.recv()
                    except EOFError:
                        message = ("failed", "the indexing process ended without a word")
                    kind, *details = message
                    if kind == "progress":
                        done[receiver] = details[0]
                        if progress is not None:
                            progress(sum(done.values()), total)
                        continue
                    waiting.remove(receiver)
                    if kind == "failed":
                        raise RuntimeError(f"an indexing process failed:\n{details[0]}")
                    results[receiver] = (details[0], details[1])
            return [results[receiver] for __, receiver in children]
        finally:
            for child, receiver in children:
                if child.is_alive():
                    child.terminate()
                child.join()
                receiver.close()

    # --- checking

    def stale_entries(self, session: Session) -> dict[str, list[int]]:
        """Compare the index with the database: versions missing, stale or orphaned.

        Reads the current generation afresh from disk, all of it, so that a damaged
        index is found here (IndexUnreadable) rather than by a search.
        """
        indexed: dict[int, str] = {}
        folder = self.current_generation() or self.directory
        with _unreadable_as(folder):
            ix = _open_index(folder, self.schema)
            with _closing_files_on_failure(ix), ix.reader() as reader:
                for fields in reader.all_stored_fields():
                    indexed[int(fields["variant_id"])] = fields.get("stamp", "")
                _read_every_posting(reader)
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
            searcher, columns = self._current_searcher_and_columns()
            yield searcher, columns

    def _current_searcher_and_columns(self) -> tuple[Searcher, Columns]:
        ix = self.ix  # moves to a new generation when the pointer has moved
        folder = self._generation or self.directory
        try:
            with _unreadable_as(folder), _closing_files_on_failure(ix):
                if self._searcher is not None and (
                    self._searcher_ix is not ix or not self._searcher.up_to_date()
                ):
                    # A new searcher, not refresh(): refresh() reuses the readers of
                    # unchanged segments together with their old deletion lists, so an
                    # entry replaced since (a withdrawn record's old version) would match.
                    self._drop_searcher()
                if self._searcher is None:
                    self._searcher, self._searcher_ix = ix.searcher(), ix
                if self._columns is None:
                    self._columns = build_columns(self._searcher)
        except IndexUnreadable:
            self._drop_searcher()
            raise
        return self._searcher, self._columns

    def _drop_searcher(self) -> None:
        searcher = self._searcher
        self._searcher, self._searcher_ix, self._columns = None, None, None
        if searcher is not None:
            try:
                searcher.close()
            except Exception:  # its files may be the broken ones
                log.warning("could not close the index searcher", exc_info=True)

    def __del__(self) -> None:
        # Let go of without close() (a script, a test), the searcher's files are closed
        # here rather than left to the collector, which warns about each one.
        try:
            self._drop_searcher()
        except Exception:  # at interpreter exit, or never fully made
            pass

    def close(self) -> None:
        with self._lock:
            self._drop_searcher()
            self._ix = None
            self._generation = None
            self._pointer_seen = None


def _split(ids: list[int], parts: int) -> list[tuple[int, int | None]]:
    """Cut the sorted ids into `parts` runs of about the same length, as (after, until]
    ranges; the last is open-ended, so versions added meanwhile are read too."""
    parts = max(1, parts)
    if not ids:
        return []
    ranges = []
    after = 0
    for k in range(1, parts + 1):
        if k == parts:
            ranges.append((after, None))
        else:
            until = ids[len(ids) * k // parts - 1]
            ranges.append((after, until))
            after = until
    return ranges


def _write_part(
    folder: Path,
    languages: Sequence[str],
    session: Session,
    shares: Iterable[tuple[int, int | None]],
    progress: Callable[[int], None] | None = None,
) -> tuple[Segment, int]:
    """Index the versions of each share (ids with after < id <= until) into one new
    segment of the generation in `folder`, which the caller lists in the table of
    contents."""
    ix = whoosh_index.open_dir(str(folder), schema=build_schema(languages))
    writer = BuildingWriter(ix, limitmb=BUILD_LIMIT_MB)
    count = 0
    try:
        for last_id, until in shares:
            while variants := _variants_after(session, last_id, until):
                for variant in variants:
                    writer.add_document(**index_fields(variant, languages))
                count += len(variants)
                last_id = variants[-1].id
                # Each batch is read in a transaction of its own, ended before progress
                # is reported: a long rebuild holds no snapshot (or SQLite lock) open.
                session.expunge_all()
                session.commit()
                if progress is not None:
                    progress(count)
        segment = writer._finalize_segment()
    except BaseException:
        writer._close_segment()
        raise
    return segment, count


def _process_context() -> multiprocessing.context.BaseContext:
    """How to start the building processes.

    Forked when this is the process's only thread (as in `hub reindex`): a child starts
    at once with everything imported. A fork copies the locks other threads hold at
    that moment, held, so with other threads running the children are spawned afresh.
    """
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _write_part_in_child(
    sender: Connection,
    database_url: str,
    folder: Path,
    languages: Sequence[str],
    shares: list[tuple[int, int | None]],
) -> None:
    try:
        # Connections of its own: a forked child never touches the parent's pool.
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            with Session(engine) as session:
                result = _write_part(
                    folder,
                    languages,
                    session,
                    shares,
                    lambda n: sender.send(("progress", n)),
                )
        finally:
            engine.dispose()
        sender.send(("done", *result))
    except BaseException:
        sender.send(("failed", traceback.format_exc()))
    finally:
        sender.close()


def _read_every_posting(reader: IndexReader) -> None:
    """Read the terms, postings (with their positions) and columns of the index once,
    so that a damaged file shows up as an exception."""
    for leaf, __ in reader.leaf_readers():
        for fieldname, text in leaf.all_terms():
            matcher = leaf.postings(fieldname, text)
            while isinstance(matcher, WrappingMatcher):  # the deleted entries left out
                matcher = matcher.child
            if isinstance(matcher, W3LeafMatcher):
                # A block at a time: unpacking its data reads all of it, in C.
                while True:
                    matcher._read_data()
                    if matcher._lastblock:
                        break
                    matcher._goto(matcher._nextoffset)
            else:
                for __ in matcher.all_items():
                    pass
    for fieldname in reader.schema.names():
        if reader.has_column(fieldname):
            for __ in reader.column_reader(fieldname):
                pass


# --- a segment writer for building a generation


#: What one posting costs in memory, roughly, while a segment is being built: four
#: list slots, and encoded positions when they are not the shared ones of a single
#: position (54 bytes measured on the generated catalogue).
_POSTING_BYTES = 60
_RUN_ENTRY_LENGTH = struct.Struct("<I")


def _nested_lists() -> defaultdict[str, defaultdict[bytes, list]]:
    return defaultdict(lambda: defaultdict(list))


class BuildingWriter(SegmentWriter):
    """Writes one segment of a new generation, faster than Whoosh's own writer.

    Whoosh pools every posting as a tuple, sorts them all when it commits and looks up
    each document's field length again while writing them out. Building from scratch,
    documents arrive in number order, so each term's postings are already in order:
    this writer keeps them per term as they come, with the field length at hand, and
    sorts only the terms. When its memory limit is reached it writes the terms so far
    to a run file, in term order, and merges the runs term by term at the end. Text
    fields are analyzed through a _WordCache. What it writes (terms, postings with
    their positions and block statistics, lengths, stored fields, columns) is what
    Whoosh's writer writes for the same entries, as a test compares.

    It takes no lock: the generation is not published yet, and each part writes its
    own segment.
    """

    def __init__(self, ix: Index, limitmb: int = BUILD_LIMIT_MB) -> None:
        super().__init__(ix, _lk=False, limitmb=limitmb)
        #: fieldname -> term bytes -> [docnum, weight, encoded value, field length, ...],
        #: four slots a posting in one flat list (a tuple each would double the memory)
        self._terms: defaultdict[str, defaultdict[bytes, list]] = _nested_lists()
        #: fieldname -> what its analyzer makes of each word (None: the analyzer runs)
        self._word_caches: dict[str, _WordCache | None] = {}
        self._postings_in_memory = 0
        self._postings_limit = max(1, limitmb * 1024 * 1024 // _POSTING_BYTES)
        self._runs: list[str] = []

    def add_document(self, **fields: object) -> None:
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                if field.separate_spelling() or field.vector:
                    raise NotImplementedError(f"{fieldname}: spelling or vector fields")
                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    words = self._word_caches.get(fieldname, False)
                    if words is False:
                        words = self._word_caches[fieldname] = _WordCache.for_field(field)
                    terms = self._terms[fieldname]
                    if words and fieldboost == 1.0:
                        length, added = words.add_postings(value, terms, docnum, field.scorable)
                    else:
                        length, added = _add_postings_of(field, value, terms, docnum, fieldboost)
                    self._postings_in_memory += added
                customval = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(
                    fieldname, field, customval if field.stored else None, length
                )
                column = field.column_type
                if column and customval is not None:
                    perdocwriter.add_column_value(
                        fieldname, column, field.to_column_value(customval)
                    )
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        if self._postings_in_memory >= self._postings_limit:
            self._write_run()

    def _terms_in_order(self) -> Iterator[tuple[str, bytes, list]]:
        for fieldname in sorted(self._terms):
            terms = self._terms[fieldname]
            for tbytes in sorted(terms):
                yield fieldname, tbytes, terms[tbytes]

    def _write_run(self) -> None:
        # Each term as its length and its marshalled bytes: marshal.load() on a file
        # reads it a few bytes at a time, loads() on bytes read at once is much faster.
        name = f"{random_name()}.terms"
        with self._tempstorage.create_file(name).raw_file() as f:
            for entry in self._terms_in_order():
                data = marshal.dumps(entry)
                f.write(_RUN_ENTRY_LENGTH.pack(len(data)))
                f.write(data)
        self._runs.append(name)
        self._terms = _nested_lists()
        self._postings_in_memory = 0

    def _read_run(self, name: str, order: int) -> Iterator[tuple]:
        with self._tempstorage.open_file(name).raw_file() as f:
            while header := f.read(_RUN_ENTRY_LENGTH.size):
                (length,) = _RUN_ENTRY_LENGTH.unpack(header)
                fieldname, tbytes, postings = marshal.loads(f.read(length))
                yield fieldname, tbytes, order, postings
        self._tempstorage.delete_file(name)

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        sources = [self._read_run(name, order) for order, name in enumerate(self._runs)]
        in_memory = len(sources)
        sources.append(
            (fieldname, tbytes, in_memory, postings)
            for fieldname, tbytes, postings in self._terms_in_order()
        )
        self._runs = []
        self._write_postings(heapq.merge(*sources))
        self._terms = _nested_lists()
        self.fieldwriter.close()

    def _write_postings(self, entries: Iterator[tuple]) -> None:
        """Write each term's postings, joining a term's pieces from the runs in the order
        they were written (which is document order)."""
        fieldwriter = self.fieldwriter
        schema = self.schema
        field_now: str | None = None
        term_now: bytes | None = None
        for fieldname, tbytes, __, postings in entries:  # postings: 4 slots each
            if fieldname != field_now:
                if term_now is not None:
                    fieldwriter.finish_term()
                    term_now = None
                if field_now is not None:
                    fieldwriter.finish_field()
                fieldwriter.start_field(fieldname, schema[fieldname])
                field_now = fieldname
            if tbytes != term_now:
                if term_now is not None:
                    fieldwriter.finish_term()
                fieldwriter.start_term(tbytes)
                term_now = tbytes
            self._add_postings(fieldwriter, postings)
        if term_now is not None:
            fieldwriter.finish_term()
        if field_now is not None:
            fieldwriter.finish_field()

    @staticmethod
    def _add_postings(fieldwriter: object, postings: list) -> None:
        """Add a term's postings (in document order, four slots each: document number,
        weight, encoded value, field length) to the term being written.

        Whoosh's own writer hands over one posting at a time, checking each; here a
        block's worth at a time goes into the postings writer's block, with the same
        block statistics, which is most of the saving.
        """
        block = getattr(fieldwriter, "_postwriter", None)
        if not isinstance(block, W3PostingsWriter) or block._byteids:
            add = fieldwriter.add  # type: ignore[attr-defined]
            for n in range(0, len(postings), 4):
                docnum, weight, vbytes, length = postings[n : n + 4]
                add(docnum, weight, vbytes or b"", length)
            return
        limit = block._blocklimit
        start, end = 0, len(postings)
        while start < end:
            room = limit - len(block._ids)
            if room <= 0:
                block._write_block()  # full, and more to come: as add_posting does
                room = limit
            stop = min(end, start + 4 * room)
            docnums = postings[start:stop:4]
            weights = postings[start + 1 : stop : 4]
            values = postings[start + 2 : stop : 4]
            lengths = postings[start + 3 : stop : 4]
            start = stop
            block._ids.extend(docnums)
            block._weights.extend(weights)
            block._maxweight = max(block._maxweight, *weights)
            block._values.extend(filter(None, values))
            lengths = list(filter(None, lengths))
            if lengths:
                shortest, longest = min(lengths), max(lengths)
                if block._minlength is None or shortest < block._minlength:
                    block._minlength = shortest
                if longest > block._maxlength:
                    block._maxlength = longest

    def _close_segment(self) -> None:
        super()._close_segment()
        for name in self._runs:  # a build given up half way
            self._tempstorage.delete_file(name)
        self._runs = []


#: Filters that look at one token at a time and whose outcome depends on its text alone:
#: they change it, or drop the token (StopFilter, ArabicNormalizeFilter).
_ONE_TOKEN_FILTERS = (
    LowercaseFilter,
    StopFilter,
    StemFilter,
    CharsetFilter,
    NFKCFilter,
    ArabicNormalizeFilter,
)
_DROPPING_FILTERS = (StopFilter, ArabicNormalizeFilter)


class _WordCache:
    """A text field's terms as its analyzer gives them, the filters run once per word.

    Our text analyzers are a tokenizer followed by filters that each look at one token
    at a time, so what they make of a word (its term, or nothing for a stop word) is
    the same wherever it occurs: this runs the tokenizer on every text and the real
    filters once per distinct word, and remembers the outcome. Positions follow the
    stop filter's own rule (with `renumber`, the words kept count on from the first
    one kept). The terms, frequencies, weights and encoded positions are those of the
    field's format, which the test of the building writer compares.

    Only for analyzers built of the filters above, with nothing dropping tokens after
    the stop filter; any other field runs its analyzer as usual.
    """

    #: Distinct words remembered before starting afresh, to bound the memory.
    LIMIT = 500_000

    def __init__(self, analyzer: CompositeAnalyzer, format_: Positions | Frequency) -> None:
        self.tokenizer = analyzer.items[0]
        self.filters = analyzer.items[1:]
        self.format = format_
        self.positions = isinstance(format_, Positions)
        stops = [f for f in self.filters if isinstance(f, StopFilter)]
        self.renumbers = self.positions and bool(stops) and stops[0].renumber
        self.terms = _Remembered(self._term_of)
        # The same few weights and encodings come back again and again: kept once,
        # they are shared by the postings instead of copied into each.
        boost = format_.field_boost
        self.weights = _Remembered(lambda n: float(n) * boost)
        self.lone_positions = _Remembered(lambda place: format_.encode([place]))
        self.frequencies = _Remembered(pack_uint)
        tokenizer = self.tokenizer
        # A plain regular-expression tokenizer makes each match a token and numbers
        # them from 0: findall() gives the same words without a Token per word.
        self.pattern = (
            tokenizer.expression
            if type(tokenizer) is RegexTokenizer
            and not tokenizer.gaps
            and tokenizer.expression.groups == 0
            else None
        )

    @classmethod
    def for_field(cls, field: FieldType) -> _WordCache | None:
        analyzer = getattr(field, "analyzer", None)
        format_ = field.format
        if type(analyzer) is not CompositeAnalyzer or type(format_) not in (Positions, Frequency):
            return None
        tokenizer, *filters = analyzer.items
        if not isinstance(tokenizer, Tokenizer):
            return None
        if any(type(f) not in _ONE_TOKEN_FILTERS for f in filters):
            return None
        stop_at = [n for n, f in enumerate(filters) if isinstance(f, StopFilter)]
        if len(stop_at) > 1:
            return None
        if stop_at and any(isinstance(f, _DROPPING_FILTERS) for f in filters[stop_at[0] + 1 :]):
            return None
        return cls(analyzer, format_)

    def _term_of(self, word: str) -> bytes | None:
        """The term (UTF-8) the filters make of a word as the tokenizer found it, or
        None."""
        if len(self.terms) >= self.LIMIT:
            self.terms.clear()
        token = Token(positions=self.positions, boosts=True, removestops=True, mode="index")
        token.text, token.pos, token.boost, token.stopped = word, 0, 1.0, False
        stream: Iterator[Token] = iter([token])
        for step in self.filters:
            stream = step(stream)
        kept = next(stream, None)
        return kept.text.encode("utf-8") if kept is not None and not kept.stopped else None

    def _words_and_positions(self, value: str) -> tuple[list[str], list[int] | None]:
        """The tokenizer's words, and their positions (None: counted from 0)."""
        if self.pattern is not None:
            return self.pattern.findall(value), None
        words, positions = [], []
        for token in self.tokenizer(value, positions=self.positions, boosts=True, mode="index"):
            words.append(token.text)
            if self.positions:
                positions.append(token.pos)
        return words, positions if self.positions else None

    def add_postings(
        self, value: str, terms: defaultdict[bytes, list], docnum: int, scorable: bool
    ) -> tuple[int, int]:
        """Add the postings of a document's value to `terms` as the building writer
        keeps them (four slots each); returns the field length and how many were
        added. What field.index(value) would give, without making its tuples."""
        if not isinstance(value, str):
            raise ValueError(f"{value!r} is not a string")
        words, positions = self._words_and_positions(value)
        found = list(map(self.terms.__getitem__, words))
        weights = self.weights
        if not self.positions:
            counts = Counter(term for term in found if term is not None)
            length = sum(counts.values()) if scorable else 0
            stored_length = _stored_length(length)
            frequencies = self.frequencies
            for term, n in counts.items():
                terms[term] += (docnum, weights[n], frequencies[n], stored_length)
            return length, len(counts)
        where: defaultdict[bytes, list[int]] = defaultdict(list)
        kept = 0
        if self.renumbers:
            in_order = [term for term in found if term is not None]
            kept = len(in_order)
            if kept:
                first = next(n for n, term in enumerate(found) if term is not None)
                if positions is not None:
                    first = positions[first]
                for place, term in enumerate(in_order, first):
                    where[term].append(place)
        else:
            for n, term in enumerate(found):
                if term is not None:
                    where[term].append(n if positions is None else positions[n])
                    kept += 1
        length = kept if scorable else 0
        stored_length = _stored_length(length)
        encode = self.format.encode
        lone = self.lone_positions
        for term, places in where.items():
            n = len(places)
            terms[term] += (
                docnum,
                weights[n],
                lone[places[0]] if n == 1 else encode(places),
                stored_length,
            )
        return length, len(where)


def _stored_length(length: int) -> int:
    """What Whoosh's writer reads back from the lengths column for a posting: the
    length rounded to one byte, or nothing for a field without one."""
    return byte_to_length(length_to_byte(length)) if length else 0


def _add_postings_of(
    field: FieldType, value: object, terms: defaultdict[bytes, list], docnum: int, boost: float
) -> tuple[int, int]:
    """As _WordCache.add_postings, through the field's own index() (any analyzer)."""
    items = list(field.index(value))
    length = sum(item[1] for item in items) if field.scorable else 0
    stored_length = _stored_length(length)
    for tbytes, __, weight, vbytes in items:
        terms[tbytes] += (docnum, weight * boost, vbytes, stored_length)
    return length, len(items)


class _Remembered(dict):
    """A function's results, computed on first sight (dict lookups stay in C)."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.compute(key)
        return value
