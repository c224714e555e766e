"""Build a synthetic catalogue of a given size, for measuring the hub at scale.

    .venv/bin/python -m benchmarks.generate --versions N --dir DIR [--seed S] [--no-index]

Creates a hub instance in DIR: the database DIR/hub.sqlite (or `DATABASE_URL` when it
is set), the blobs under DIR/uploads and the index under DIR/index. It creates the
schema and vocabularies as `hub init` does, writes the records straight into the
tables in large batches (SQLAlchemy Core, one transaction, no services), and then
builds the index with the hub's own `reindex` (skipped with `--no-index`). The same
seed gives the same catalogue. Other benchmark scripts open the instance with
`app_for(DIR)`.

The shape of the catalogue:

- Records: about 1.8 language versions each, as the UN publishes. Every record has its
  original version (en 70 %, fr 12 %, es 10 %, ar 3 %, zh 3 %, ru 2 %); 30 % also have
  1 to 5 translations among the other five languages (1: 35 %, 2: 20 %, 3: 15 %,
  4: 10 %, 5: 20 %). The last record is cut so that there are exactly N versions.
- Status and access: released and public 85 %; released members-only 4 %; released
  internal 2 %; draft 3 %, in review 3 %, withdrawn 3 % (public). A released record's
  translations are approved 92 % of the time, else submitted, in review or sent back.
- Kind: publication 60 % (report, position paper, policy brief, working paper, guide,
  toolkit, awareness package, case study, presentation, other), archive 40 % (meeting
  minutes, agenda, session notes, workplan, correspondence, presentation).
- Date: years 2013-2026, later years more likely (weight 1 + (year - 2013) / 4); given
  as year only 20 %, year and month 30 %, full date 50 %.
- Organizations 1-3, topics 1-4 and, for half the records, regions 1-3, each drawn
  with weight 1 / rank from the seeded vocabularies (so the first ones are common).
- Words: per language, the words of real text ranked by their frequency there
  (English: the Cranfield abstracts; Arabic, Chinese, French, Russian, Spanish: the
  Universal Declaration of Human Rights, Chinese segmented with jieba), drawn with a
  Zipf-Mandelbrot law: P(rank r) proportional to 1 / (r + 2.7) ** 1.0, r = 1, 2, ...
  Titles take 6-14 words (ranks from 20 on, past the function words), summaries
  30-80 words.
- Text of each version's file: N_words = round(exp(X)), X ~ Normal(ln 400, 0.6),
  clipped to [30, 5000] words (median 400, mean about 480), with a full stop every
  8-24 words.
- Files: every version has one StoredFile row holding its own text. The rows share
  240 real blobs (40 per language: small PDFs for English, French and Spanish, plain
  text for all), stored through the hub's BlobStore, so downloads and fixity checks
  work; a blob's bytes are not the row's text.

Nothing is queued in the index outbox (pending_index): Core inserts bypass the ORM
listener, and the script checks that the outbox is empty at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import math
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rjieba
from flask import Flask
from fpdf import FPDF
from sqlalchemy import Connection
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text

from benchmarks import ir
from knowledge_hub import create_app
from knowledge_hub import search
from knowledge_hub.config import Config
from knowledge_hub.extensions import db
from knowledge_hub.extraction import sniff
from knowledge_hub.models import CriteriaSetVersion
from knowledge_hub.models import DocType
from knowledge_hub.models import Document
from knowledge_hub.models import DocumentOrganization
from knowledge_hub.models import Organization
from knowledge_hub.models import PendingIndex
from knowledge_hub.models import Region
from knowledge_hub.models import StoredFile
from knowledge_hub.models import Topic
from knowledge_hub.models import Variant
from knowledge_hub.models.documents import document_region
from knowledge_hub.models.documents import document_topic
from knowledge_hub.services import setup
from knowledge_hub.storage import BlobStore

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
ORIGINAL_LANGUAGE_WEIGHTS = {"en": 70, "fr": 12, "es": 10, "ar": 3, "zh": 3, "ru": 2}
TRANSLATED_SHARE = 0.30
TRANSLATION_COUNT_WEIGHTS = {1: 35, 2: 20, 3: 15, 4: 10, 5: 20}

#: (status, access, share of records)
STATUS_MIX = (
    ("released", "public", 85),
    ("released", "members", 4),
    ("released", "internal", 2),
    ("draft", "public", 3),
    ("in_review", "public", 3),
    ("withdrawn", "public", 3),
)
TRANSLATION_STATUS_WHEN_RELEASED = {"approved": 92, "submitted": 3, "in_review": 3, "sent_back": 2}

PUBLICATION_SHARE = 0.60
PUBLICATION_TYPES = (
    "report",
    "position-paper",
    "policy-brief",
    "working-paper",
    "guide",
    "toolkit",
    "awareness-package",
    "case-study",
    "presentation",
    "other",
)
ARCHIVE_TYPES = (
    "meeting-minutes",
    "agenda",
    "session-notes",
    "workplan",
    "correspondence",
    "presentation",
)
YEARS = tuple(range(2013, 2027))
AUTHORS = (
    "A. Rahman", "M. Dubois", "L. García", "Wang Li", "O. Petrova", "K. Mensah",
    "S. Haddad", "J. Smith", "P. Moreau", "E. Ivanov", "C. Torres", "Zhang Wei",
)  # fmt: skip

ZIPF_EXPONENT = 1.0
ZIPF_SHIFT = 2.7
TITLE_FIRST_RANK = 20
LENGTH_MEDIAN_WORDS = 400
LENGTH_SIGMA = 0.6
LENGTH_BOUNDS = (30, 5000)
BLOBS_PER_LANGUAGE = 40
PDF_LANGUAGES = ("en", "fr", "es")

#: Records generated and written per batch: keeps memory flat at any size.
BATCH_RECORDS = 2000

UDHR_FILES = {
    "ar": "udhr_arb.xml",
    "zh": "udhr_cmn_hans.xml",
    "fr": "udhr_fra.xml",
    "ru": "udhr_rus.xml",
    "es": "udhr_spa.xml",
}
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
CHINESE_WORD = re.compile(r"[\u4e00-\u9fff]+")


# --- the instance


def app_for(directory: Path) -> Flask:
    """The hub configured for the benchmark instance in directory."""
    directory = Path(directory).resolve()
    database = (
        Config.SQLALCHEMY_DATABASE_URI
        if os.environ.get("DATABASE_URL")
        else f"sqlite:///{directory / 'hub.sqlite'}"
    )
    return create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": database,
            "INDEX_DIR": directory / "index",
            "UPLOAD_DIR": directory / "uploads",
            "SERVER_NAME": "hub.test",
        }
    )


# --- words


@dataclass(frozen=True)
class Vocabulary:
    """The words of one language, commonest first, with the Zipf-Mandelbrot law over them."""

    language: str
    words: np.ndarray  # of str objects
    cumulative: np.ndarray  # cumulative probability by rank

    def draw(self, rng: np.random.Generator, count: int, first_rank: int = 0) -> list[str]:
        """Draw count words by rank; first_rank leaves out the commonest ones."""
        low = self.cumulative[first_rank - 1] if first_rank else 0.0
        picks = np.searchsorted(self.cumulative, rng.uniform(low, 1.0, count), side="right")
        return self.words[np.minimum(picks, len(self.words) - 1)].tolist()


def zipf_cumulative(size: int) -> np.ndarray:
    weights = 1.0 / (np.arange(1, size + 1) + ZIPF_SHIFT) ** ZIPF_EXPONENT
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]


def vocabulary_from(language: str, words: Sequence[str]) -> Vocabulary:
    # Ties broken by the word itself, so that the ranking does not depend on file order.
    ranked = sorted(Counter(words).items(), key=lambda item: (-item[1], item[0]))
    return Vocabulary(
        language, np.array([w for w, __ in ranked], dtype=object), zipf_cumulative(len(ranked))
    )


def udhr_text(path: Path) -> str:
    root = ET.parse(path).getroot()
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def words_of(language: str, text_: str) -> list[str]:
    if language == "zh":
        return [w for w in rjieba.cut(text_) if CHINESE_WORD.fullmatch(w)]
    return [w.lower() for w in WORD.findall(text_)]


def vocabularies(data: Path) -> dict[str, Vocabulary]:
    """Each language's words, from the Cranfield abstracts (English) and the UDHR."""
    cranfield = ir.read_documents(data / "cranfield" / "cran.all.1400")
    english = " ".join(d.text for d in cranfield)
    sources = {"en": english}
    sources.update({lang: udhr_text(data / "udhr" / name) for lang, name in UDHR_FILES.items()})
    return {lang: vocabulary_from(lang, words_of(lang, sources[lang])) for lang in LANGUAGES}


def prose(language: str, words: list[str], rng: np.random.Generator) -> str:
    """Words as sentences: a capital and a full stop every 8-24 words."""
    sentences = []
    i = 0
    while i < len(words):
        n = int(rng.integers(8, 25))
        part = words[i : i + n]
        i += n
        if language == "zh":
            sentences.append("".join(part) + "。")
        else:
            sentences.append(
                part[0][:1].upper() + part[0][1:] + "".join(" " + w for w in part[1:]) + "."
            )
    return ("" if language == "zh" else " ").join(sentences)


def heading(language: str, words: list[str]) -> str:
    if language == "zh":
        return "".join(words)
    return " ".join(words).capitalize()


def text_lengths(rng: np.random.Generator, count: int) -> np.ndarray:
    lengths = np.rint(np.exp(rng.normal(math.log(LENGTH_MEDIAN_WORDS), LENGTH_SIGMA, count)))
    return np.clip(lengths, *LENGTH_BOUNDS).astype(int)


# --- blobs


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    media_type: str
    page_count: int | None
    suffix: str


def latin1(text_: str) -> str:
    """The PDF core fonts know Latin-1 only; anything else becomes "?"."""
    return text_.replace("’", "'").encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(title: str, body: str) -> bytes:
    pdf = FPDF()
    # A fixed date: the same seed must give the same bytes, hence the same sha256.
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.multi_cell(0, 7, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(0, 5, latin1(body), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def store_blobs(
    store: BlobStore, vocabulary: dict[str, Vocabulary], rng: np.random.Generator
) -> dict[str, list[Blob]]:
    """A few real files per language, for the StoredFile rows to share."""
    blobs: dict[str, list[Blob]] = {}
    for lang in LANGUAGES:
        blobs[lang] = []
        for number in range(BLOBS_PER_LANGUAGE):
            title = heading(lang, vocabulary[lang].draw(rng, 8, TITLE_FIRST_RANK))
            body = prose(lang, vocabulary[lang].draw(rng, 120), rng)
            if lang in PDF_LANGUAGES and number % 2 == 0:
                data, suffix, pages = pdf_bytes(title, body), "pdf", 1
            else:
                data, suffix, pages = f"{title}\n\n{body}\n".encode(), "txt", None
            stored = store.put(io.BytesIO(data))
            blobs[lang].append(
                Blob(stored.sha256, stored.size, sniff(data, f"x.{suffix}"), pages, suffix)
            )
    return blobs


# --- records


@dataclass(frozen=True)
class Vocabularies:
    """Ids of the seeded vocabularies, in the order their weights are given."""

    doc_types: dict[str, int]
    organizations: list[int]
    topics: list[int]
    regions: list[str]
    criteria_version: int | None


def seeded_vocabularies(connection: Connection) -> Vocabularies:
    doc_types = dict(connection.execute(select(DocType.code, DocType.id)).all())
    organizations = list(connection.scalars(select(Organization.id).order_by(Organization.id)))
    topics = list(connection.scalars(select(Topic.id).order_by(Topic.position, Topic.id)))
    # Areas first (they are the common case on the Task Force's records), then countries.
    regions = list(
        connection.scalars(select(Region.code).order_by(Region.is_area.desc(), Region.code))
    )
    version = connection.scalar(select(func.max(CriteriaSetVersion.number)))
    return Vocabularies(doc_types, organizations, topics, regions, version)


def pick(rng: np.random.Generator, weights: dict) -> object:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def pick_by_rank(rng: np.random.Generator, items: Sequence, count: int) -> list:
    """count distinct items, each with weight 1 / rank."""
    p = 1.0 / np.arange(1, len(items) + 1)
    chosen = rng.choice(len(items), size=min(count, len(items)), replace=False, p=p / p.sum())
    return [items[i] for i in sorted(chosen)]


def partial_date(rng: np.random.Generator) -> str:
    year = int(pick(rng, {y: 1 + (y - 2013) / 4 for y in YEARS}))
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    precision = rng.random()
    if precision < 0.2:
        return f"{year}"
    if precision < 0.5:
        return f"{year}-{month:02d}"
    return f"{year}-{month:02d}-{day:02d}"


def moment_of(date: str) -> dt.datetime:
    parts = [int(p) for p in date.split("-")] + [1, 1]
    return dt.datetime(parts[0], parts[1] or 1, parts[2] or 1, 9, 0)


@dataclass
class Rows:
    """The rows of one batch, table by table."""

    documents: list[dict]
    organizations: list[dict]
    topics: list[dict]
    regions: list[dict]
    variants: list[dict]
    files: list[dict]


def version_languages(rng: np.random.Generator) -> list[str]:
    original = str(pick(rng, ORIGINAL_LANGUAGE_WEIGHTS))
    others = [lang for lang in LANGUAGES if lang != original]
    if rng.random() >= TRANSLATED_SHARE:
        return [original]
    count = int(pick(rng, TRANSLATION_COUNT_WEIGHTS))
    chosen = rng.choice(len(others), size=count, replace=False)
    return [original] + [others[i] for i in sorted(chosen)]


def record_batch(
    rng: np.random.Generator,
    vocabulary: dict[str, Vocabulary],
    vocab: Vocabularies,
    blobs: dict[str, list[Blob]],
    first_document: int,
    first_variant: int,
    versions_left: int,
) -> Rows:
    """Up to BATCH_RECORDS records with at most versions_left versions in all."""
    rows = Rows([], [], [], [], [], [])
    document_id, variant_id = first_document, first_variant
    for __ in range(BATCH_RECORDS):
        if versions_left <= 0:
            break
        languages = version_languages(rng)[:versions_left]
        versions_left -= len(languages)
        status, access = pick(rng, {(s, a): w for s, a, w in STATUS_MIX})
        is_publication = rng.random() < PUBLICATION_SHARE
        types = PUBLICATION_TYPES if is_publication else ARCHIVE_TYPES
        date = partial_date(rng)
        at = moment_of(date)
        ref = f"SYN-{document_id:07d}"
        rows.documents.append(
            {
                "id": document_id,
                "ref": ref,
                "kind": "publication" if is_publication else "archive",
                "doc_type_id": vocab.doc_types[types[int(rng.integers(len(types)))]],
                "date": date,
                "authors": pick_by_rank(rng, AUTHORS, int(rng.integers(1, 4)))
                if is_publication
                else [],
                "series": None,
                "identifiers": {"un_symbol": f"UNTFSSE/{date[:4]}/{document_id}"}
                if is_publication and rng.random() < 0.3
                else {},
                "meeting_number": None if is_publication else int(rng.integers(1, 61)),
                "meeting_date": None if is_publication else date,
                "access": access,
                "status": status,
                "original_language": languages[0],
                "license": "CC BY 4.0" if is_publication else None,
                "original_revision": 1,
                "is_sample": False,
                "created_at": at,
                "created_by_id": None,
                "updated_at": at,
                "released_at": at if status in ("released", "withdrawn") else None,
                "released_by_id": None,
                "criteria_version": vocab.criteria_version
                if status in ("released", "withdrawn")
                else None,
                "withdrawn_at": at + dt.timedelta(days=30) if status == "withdrawn" else None,
                "withdrawn_by_id": None,
                "withdrawal_reason": "Superseded by a later edition."
                if status == "withdrawn"
                else None,
            }
        )
        for position, organization in enumerate(
            pick_by_rank(rng, vocab.organizations, int(rng.integers(1, 4)))
        ):
            rows.organizations.append(
                {
                    "document_id": document_id,
                    "organization_id": organization,
                    "role": "lead" if position == 0 else "contributor",
                    "position": position,
                }
            )
        for topic in pick_by_rank(rng, vocab.topics, int(rng.integers(1, 5))):
            rows.topics.append({"document_id": document_id, "topic_id": topic})
        if rng.random() < 0.5:
            for region in pick_by_rank(rng, vocab.regions, int(rng.integers(1, 4))):
                rows.regions.append({"document_id": document_id, "region_code": region})
        lengths = text_lengths(rng, len(languages))
        for number, (language, length) in enumerate(zip(languages, lengths, strict=True)):
            is_original = number == 0
            words = vocabulary[language]
            blob = blobs[language][int(rng.integers(len(blobs[language])))]
            rows.variants.append(
                {
                    "id": variant_id,
                    "document_id": document_id,
                    "language": language,
                    "title": heading(
                        language, words.draw(rng, int(rng.integers(6, 15)), TITLE_FIRST_RANK)
                    ),
                    "summary": prose(language, words.draw(rng, int(rng.integers(30, 81))), rng),
                    "is_original": is_original,
                    "status": variant_status(rng, status, is_original),
                    "source_revision": None if is_original else 1,
                    "translator_id": None,
                    "reviewer_id": None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            rows.files.append(
                {
                    "id": variant_id,
                    "variant_id": variant_id,
                    "sha256": blob.sha256,
                    "size": blob.size,
                    "media_type": blob.media_type,
                    "original_name": f"{ref}-{language}.{blob.suffix}",
                    "page_count": blob.page_count,
                    "text": prose(language, words.draw(rng, int(length)), rng),
                    "extraction_error": None,
                    "created_at": at,
                    "created_by_id": None,
                }
            )
            variant_id += 1
        document_id += 1
    return rows


def variant_status(rng: np.random.Generator, document_status: str, is_original: bool) -> str:
    if document_status == "draft":
        return "submitted"
    if document_status == "in_review":
        return "in_review" if is_original else "submitted"
    if is_original:
        return "approved"
    return str(pick(rng, TRANSLATION_STATUS_WHEN_RELEASED))


def write_batch(connection: Connection, rows: Rows) -> None:
    # Core executemany, in dependency order; the ORM (and its outbox listener) is bypassed.
    for table, batch in (
        (Document.__table__, rows.documents),
        (DocumentOrganization.__table__, rows.organizations),
        (document_topic, rows.topics),
        (document_region, rows.regions),
        (Variant.__table__, rows.variants),
        (StoredFile.__table__, rows.files),
    ):
        if batch:
            connection.execute(insert(table), batch)


def catch_up_sequences(connection: Connection) -> None:
    """On PostgreSQL, move the id sequences past the ids written here by hand."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("document", "variant", "stored_file"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def each_batch(
    rng: np.random.Generator,
    vocabulary: dict[str, Vocabulary],
    vocab: Vocabularies,
    blobs: dict[str, list[Blob]],
    versions: int,
) -> Iterator[Rows]:
    document_id, variant_id, left = 1, 1, versions
    while left > 0:
        rows = record_batch(rng, vocabulary, vocab, blobs, document_id, variant_id, left)
        document_id += len(rows.documents)
        variant_id += len(rows.variants)
        left -= len(rows.variants)
        yield rows


# --- the command


def generate(directory: Path, versions: int, seed: int, build_index: bool, data: Path) -> int:
    """Create the instance in directory, fill it and (unless told not to) index it."""
    for sub in ("uploads", "index"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    app = app_for(directory)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    with app.app_context():
        setup.initialize()
        if db.session.scalar(select(Document.id).limit(1)) is not None:
            print(f"{directory} already holds records; use an empty folder.", file=sys.stderr)
            return 1
        db.session.commit()
        vocabulary = vocabularies(data)
        blobs = store_blobs(BlobStore(app.config["UPLOAD_DIR"]), vocabulary, rng)
        prepared = time.perf_counter()
        print(
            f"schema, vocabularies and {sum(len(b) for b in blobs.values())} blobs: "
            f"{prepared - started:.1f} s",
            flush=True,
        )
        records = written = 0
        with db.engine.begin() as connection:
            vocab = seeded_vocabularies(connection)
            for rows in each_batch(rng, vocabulary, vocab, blobs, versions):
                write_batch(connection, rows)
                records += len(rows.documents)
                written += len(rows.variants)
                if records % (10 * BATCH_RECORDS) == 0:
                    print(f"  {written} versions of {records} records", flush=True)
            catch_up_sequences(connection)
        inserted = time.perf_counter()
        print(
            f"inserted {records} records, {written} versions and files: "
            f"{inserted - prepared:.1f} s",
            flush=True,
        )
        queued = db.session.scalar(select(func.count()).select_from(PendingIndex))
        if queued:
            print(f"{queued} entries are queued in the index outbox.", file=sys.stderr)
            return 1
        if build_index:
            indexed = search.reindex()
            print(f"indexed {indexed} versions: {time.perf_counter() - inserted:.1f} s")
    print(f"total: {time.perf_counter() - started:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, required=True, help="language versions in all")
    parser.add_argument("--dir", type=Path, required=True, help="the instance folder")
    parser.add_argument("--seed", type=int, default=2026, help="the random seed (default 2026)")
    parser.add_argument("--no-index", action="store_true", help="leave the index empty")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared test material")
    args = parser.parse_args(argv)
    if args.versions < 1:
        parser.error("--versions must be at least 1")
    return generate(args.dir.resolve(), args.versions, args.seed, not args.no_index, args.data)


if __name__ == "__main__":
    sys.exit(main())
