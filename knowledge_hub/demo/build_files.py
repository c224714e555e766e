"""Build the demonstration catalogue's files and manifest from their text sources.

Each source in ``texts/`` is one language version of one record, named
``<REF>.<lang>.md``: a header of ``key: value`` lines, a line ``---``, then the
body in a small Markdown subset (``##`` headings, ``-`` bullets, ``1.`` numbered
items, ``|`` tables, paragraphs). The source that carries the record's metadata
(``kind``, ``type``, ``date`` ...) is the original language version; the others
carry only ``ref``, ``language``, ``format``, ``title`` and ``summary``. Every
file starts with the sample notice in its language, then the title (see ``formats``).

Run ``python -m knowledge_hub.demo.build_files`` to write ``files/`` and
``manifest.csv``, or add ``--check`` to validate what is there without writing.
The output is byte-for-byte reproducible, so rebuilding changes no checksum.
"""

from __future__ import annotations

import csv
import re
import sys
import zipfile
from collections import Counter
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

from knowledge_hub.demo.formats import LATIN1_LANGUAGES
from knowledge_hub.demo.formats import NOTICES
from knowledge_hub.demo.formats import WRITERS
from knowledge_hub.demo.formats import Block
from knowledge_hub.demo.formats import Source

HERE = Path(__file__).resolve().parent
TEXTS_DIR = HERE / "texts"
FILES_DIR = HERE / "files"
MANIFEST = HERE / "manifest.csv"
#: The Task Force meetings `hub demo` records before importing: the manifest's `meeting`
#: column names them by number.
MEETINGS_CSV = HERE / "meetings.csv"

COLUMNS = [
    "ref", "file", "language", "title", "summary", "kind", "type", "date",
    "organizations", "authors", "topics", "regions", "access", "meeting",
]  # fmt: skip
RECORD_FIELDS = [
    "kind", "type", "date", "organizations", "authors", "topics", "regions", "access",
    "meeting",
]  # fmt: skip

LANGUAGES = ["en", "fr", "es", "ar", "zh", "ru"]
FORMATS = {"pdf", "docx", "odt", "html", "md", "txt"}
KINDS = {"publication", "archive"}
ACCESS = {"public", "members", "internal"}
TYPES = {
    "report", "position-paper", "policy-brief", "working-paper", "guide", "toolkit",
    "awareness-package", "case-study", "meeting-minutes", "agenda", "session-notes",
    "workplan", "presentation", "correspondence", "other",
}  # fmt: skip
ORGANIZATIONS = {
    "ILO", "UNCTAD", "UNRISD", "UNDP", "UN DESA", "ECLAC", "ESCAP", "OECD", "FAO",
    "UN Women", "UN-NGLS", "UNHCR", "WHO", "ITC-ILO",
    "Catalyst 2030", "CIRIEC", "CSEND", "EESC", "EMES", "EURICSE", "DIESIS", "GSEF",
    "Euclid Network", "ICA", "SSE IF", "RIPESS", "FMDV", "WFTO",
}  # fmt: skip
TOPICS = {f"sdg-{n}" for n in range(1, 18)} | {
    "informal-economy", "green-economy", "local-development", "sustainable-cities",
    "womens-empowerment", "food-security", "health-coverage", "transformative-finance",
    "cooperatives", "legal-frameworks", "statistics", "digital-economy",
}  # fmt: skip
M49_AREAS = {"001", "002", "142", "150", "419", "019"}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")

MAX_TOTAL_BYTES = 2 * 1024 * 1024


# ---------------------------------------------------------------------------
# Sources


def parse_source(path: Path) -> Source:
    """Read one text source: the header, then the body's blocks."""
    head, sep, body = path.read_text(encoding="utf-8").partition("\n---\n")
    if not sep:
        raise ValueError(f"{path.name}: no '---' line after the header")
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if line.strip():
            key, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"{path.name}: header line without ':': {line!r}")
            meta[key.strip()] = value.strip()
    joiner = "" if meta.get("language") == "zh" else " "
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("p", joiner.join(para)))
            para.clear()

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("### "):
            flush()
            blocks.append(Block("h3", line[4:].strip()))
        elif line.startswith("## "):
            flush()
            blocks.append(Block("h2", line[3:].strip()))
        elif line.startswith("- "):
            flush()
            if not blocks or blocks[-1].kind != "ul":
                blocks.append(Block("ul"))
            blocks[-1].items.append(line[2:].strip())
        elif re.match(r"\d+\. ", line):
            flush()
            if not blocks or blocks[-1].kind != "ol":
                blocks.append(Block("ol"))
            blocks[-1].items.append(line.split(" ", 1)[1].strip())
        elif line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            if not blocks or blocks[-1].kind != "table":
                blocks.append(Block("table"))
            blocks[-1].rows.append(cells)
        else:
            para.append(line)
    flush()
    return Source(path, meta, blocks)


def load_sources() -> dict[str, list[Source]]:
    """Group the sources by record, the original first, then in UN language order."""
    by_ref: dict[str, list[Source]] = defaultdict(list)
    for path in sorted(TEXTS_DIR.glob("*.md")):
        source = parse_source(path)
        expected = f"{source.ref}.{source.language}.md"
        if path.name != expected:
            raise ValueError(f"{path.name}: should be named {expected}")
        by_ref[source.ref].append(source)
    for ref, sources in by_ref.items():
        originals = [s for s in sources if s.is_original]
        if len(originals) != 1:
            raise ValueError(f"{ref}: {len(originals)} sources carry the record metadata")
        for source in sources:
            source.record_kind = originals[0].meta["kind"]
        sources.sort(key=lambda s: (not s.is_original, LANGUAGES.index(s.language)))
    return dict(by_ref)


def record_order(item: tuple[str, list[Source]]) -> tuple[bool, str, str]:
    """Publications first, then archives; within each, oldest first, then by reference."""
    original = item[1][0].meta
    return (original["kind"] != "publication", original["date"], item[0])


# ---------------------------------------------------------------------------
# Building


def manifest_rows(records: list[tuple[str, list[Source]]]) -> list[dict[str, str]]:
    """One manifest row per language version; the record's metadata repeated on each."""
    rows = []
    for __, sources in records:
        original = sources[0].meta
        for source in sources:
            row = {"ref": source.ref, "file": source.file, "language": source.language}
            row["title"] = source.meta["title"]
            row["summary"] = source.meta["summary"]
            row.update({name: original.get(name, "") for name in RECORD_FIELDS})
            rows.append(row)
    return rows


def build() -> None:
    """Write every file and the manifest, removing files no source produces any more."""
    records = sorted(load_sources().items(), key=record_order)
    written: set[Path] = set()
    for __, sources in records:
        for source in sources:
            fmt = source.meta["format"]
            if fmt not in WRITERS:
                raise ValueError(f"{source.path.name}: unknown format {fmt!r}")
            target = FILES_DIR / source.file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(WRITERS[fmt](source))
            written.add(target)
    for path in FILES_DIR.rglob("*"):
        if path.is_file() and path not in written:
            path.unlink()
    with MANIFEST.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(manifest_rows(records))
    print(f"Wrote {len(written)} files for {len(records)} records and {MANIFEST.name}.")


# ---------------------------------------------------------------------------
# Checking


def extract_text(path: Path) -> str:
    """The text of a built file, read back the way an importer would."""
    suffix = path.suffix.lstrip(".")
    if suffix == "pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    if suffix in ("docx", "odt"):
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                raise ValueError("corrupt member in ZIP")
            names = archive.namelist()
            for name in names:
                if name.endswith(".xml") or name.endswith(".rels"):
                    ElementTree.fromstring(archive.read(name))
            if suffix == "odt":
                first = archive.infolist()[0]
                if first.filename != "mimetype" or first.compress_type != zipfile.ZIP_STORED:
                    raise ValueError("mimetype is not the first, stored member")
                if archive.read("mimetype") != b"application/vnd.oasis.opendocument.text":
                    raise ValueError("wrong mimetype")
                root = ElementTree.fromstring(archive.read("content.xml"))
                tags = ("}p", "}h")
            else:
                if "[Content_Types].xml" not in names:
                    raise ValueError("no [Content_Types].xml")
                root = ElementTree.fromstring(archive.read("word/document.xml"))
                tags = ("}p",)
        lines = [
            "".join(el.itertext())
            for el in root.iter()
            if el.tag.endswith(tags) and not any(c.tag.endswith("}p") for c in el)
        ]
        return "\n".join(lines)
    data = path.read_text(encoding="utf-8")
    if suffix == "html":
        from html.parser import HTMLParser

        class Text(HTMLParser):
            def __init__(self) -> None:
                super().__init__()
                self.parts: list[str] = []
                self.skip = 0

            def handle_starttag(self, tag: str, attrs: list) -> None:
                self.skip += tag in ("head", "style", "title")

            def handle_endtag(self, tag: str) -> None:
                self.skip -= tag in ("head", "style", "title")

            def handle_data(self, text: str) -> None:
                if not self.skip and text.strip():
                    self.parts.append(text.strip())

        parser = Text()
        parser.feed(data)
        return "\n".join(parser.parts)
    return data


def body_size(source: Source) -> int:
    """Words in the body (for Chinese: characters divided by 1.6, a usual ratio)."""
    text = " ".join(
        b.text if b.kind not in ("ul", "ol", "table") else " ".join(b.items or sum(b.rows, []))
        for b in source.blocks
    )
    if source.language == "zh":
        return round(len(re.findall(r"[\u4e00-\u9fff]", text)) / 1.6)
    return len(text.split())


def check() -> list[str]:
    """Validate the manifest, the vocabularies and every file; return the problems."""
    problems: list[str] = []
    sources = {(s.ref, s.language): s for group in load_sources().values() for s in group}
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            problems.append(f"manifest columns are {reader.fieldnames}")
        rows = list(reader)

    seen: set[tuple[str, str]] = set()
    languages_by_ref: dict[str, list[str]] = defaultdict(list)
    access_by_ref: dict[str, str] = {}
    kind_by_ref: dict[str, str] = {}
    total_bytes = 0
    with MEETINGS_CSV.open(encoding="utf-8", newline="") as handle:
        meetings = {meeting["number"] for meeting in csv.DictReader(handle)}
    for n, row in enumerate(rows, start=2):
        where = f"manifest line {n} ({row['ref']} {row['language']})"
        key = (row["ref"], row["language"])
        if key in seen:
            problems.append(f"{where}: duplicate (ref, language)")
        seen.add(key)
        languages_by_ref[row["ref"]].append(row["language"])
        if row["language"] not in LANGUAGES:
            problems.append(f"{where}: language {row['language']!r}")
        if row["kind"] not in KINDS:
            problems.append(f"{where}: kind {row['kind']!r}")
        if row["type"] not in TYPES:
            problems.append(f"{where}: type {row['type']!r}")
        if row["access"] not in ACCESS:
            problems.append(f"{where}: access {row['access']!r}")
        if row["meeting"] and row["meeting"] not in meetings:
            problems.append(f"{where}: meeting {row['meeting']!r} is not in meetings.csv")
        if not DATE_RE.match(row["date"]):
            problems.append(f"{where}: date {row['date']!r}")
        if not row["title"]:
            problems.append(f"{where}: no title")
        if not 200 <= len(row["summary"]) <= 900:
            problems.append(f"{where}: summary has {len(row['summary'])} characters")
        for org in filter(None, row["organizations"].split(";")):
            if org not in ORGANIZATIONS:
                problems.append(f"{where}: organization {org!r}")
        for topic in filter(None, row["topics"].split(";")):
            if topic not in TOPICS:
                problems.append(f"{where}: topic {topic!r}")
        for region in filter(None, row["regions"].split(";")):
            if region not in M49_AREAS and not COUNTRY_RE.match(region):
                problems.append(f"{where}: region {region!r}")
        if not row["organizations"] or not row["topics"] or not row["authors"]:
            problems.append(f"{where}: organizations, authors and topics are all expected")
        if access_by_ref.setdefault(row["ref"], row["access"]) != row["access"]:
            problems.append(f"{where}: access differs between language versions")
        kind_by_ref.setdefault(row["ref"], row["kind"])

        path = FILES_DIR / row["file"]
        if not path.is_file():
            problems.append(f"{where}: file {row['file']} is missing")
            continue
        total_bytes += path.stat().st_size
        suffix = path.suffix.lstrip(".")
        if suffix not in FORMATS:
            problems.append(f"{where}: format {suffix!r}")
        if suffix == "pdf" and row["language"] not in LATIN1_LANGUAGES:
            problems.append(f"{where}: PDF in a language outside Latin-1")
        try:
            text = extract_text(path)
        except Exception as exc:  # any failure to open the file is the finding
            problems.append(f"{where}: {row['file']} does not open: {exc}")
            continue
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        notice = NOTICES[row["language"]]
        if " ".join(first_line.split())[:40] != notice[:40]:
            problems.append(f"{where}: first line is not the sample notice: {first_line[:60]!r}")
        words = [w for w in re.findall(r"\w{5,}", row["title"])][:3]
        flat = " ".join(text.split())
        for word in words:
            if word not in flat:
                problems.append(f"{where}: title word {word!r} not found in the file's text")
        source = sources.get(key)
        if source is None:
            problems.append(f"{where}: no text source")
        elif not 150 <= body_size(source) <= 500:
            problems.append(f"{where}: body has {body_size(source)} words")

    if len(languages_by_ref) < 42:
        problems.append(f"only {len(languages_by_ref)} records")
    six = [ref for ref, langs in languages_by_ref.items() if set(langs) == set(LANGUAGES)]
    if len(six) < 3:
        problems.append(f"only {len(six)} records in all six languages")
    multi = [ref for ref, langs in languages_by_ref.items() if len(langs) > 1]
    if len(multi) < 10:
        problems.append(f"only {len(multi)} records in two or more languages")
    access = Counter(access_by_ref.values())
    if access["members"] < 2 or access["internal"] < 2:
        problems.append(f"access levels: {dict(access)}")
    if total_bytes > MAX_TOTAL_BYTES:
        problems.append(f"files weigh {total_bytes} bytes")
    return problems


def report() -> str:
    """Counts of records, files per format and records per number of languages."""
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    refs: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        refs[row["ref"]].append(row)
    formats = Counter(Path(r["file"]).suffix.lstrip(".") for r in rows)
    per_language = Counter(r["language"] for r in rows)
    per_count = Counter(len(v) for v in refs.values())
    kinds = Counter(v[0]["kind"] for v in refs.values())
    originals = Counter(v[0]["language"] for v in refs.values())
    size = sum((FILES_DIR / r["file"]).stat().st_size for r in rows)
    return "\n".join([
        f"records: {len(refs)} ({dict(kinds)}); files: {len(rows)}, {size} bytes",
        f"files per format: {dict(sorted(formats.items()))}",
        f"files per language: {dict(per_language)}",
        f"original languages: {dict(originals)}",
        f"records by number of languages: {dict(sorted(per_count.items()))}",
        f"access: {dict(Counter(v[0]['access'] for v in refs.values()))}",
    ])  # fmt: skip


def main(argv: list[str]) -> int:
    """Build (unless --check), validate, and print the counts."""
    if "--check" not in argv:
        build()
    problems = check()
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(report())
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
