"""Office formats, legacy and modern: Word, Excel and PowerPoint 97-2003, XLSX, ODS, ODP.

The real files of shared/data/realfiles go through the real sandbox; each is
accepted and gives words, and the Word and PowerPoint files give the phrases read
off them (the same ones Apache Tika's tests assert). How many of an independent
reader's words each format recovers is tests/test_extraction_realfiles.py's.
Compound files and workbooks built here, byte by byte, cover what the real files
do not: fields, cell marks and hyphens in Word text, cell formatting, encryption,
and hostile structures.
"""

from __future__ import annotations

import datetime
import io
import re
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge_hub import extraction
from knowledge_hub.extraction import Extraction
from knowledge_hub.extraction import UnsupportedType
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import sniff
from knowledge_hub.extraction import sniff_file
from tests.conftest import shared_data
from tests.references import words

#: A bound that only a hang reaches (a cyclic chain read forever, a child never
#: stopped): these tests check that the work ends, not how fast; the speed figures
#: are benchmarks/ business.
HANG_GUARD_SECONDS = 60


PASSWORD = "protected by a password, so its text cannot be read: upload an unprotected copy."

KIND_BY_SUFFIX = {
    ".doc": extraction.DOC,
    ".docx": extraction.DOCX,
    ".xls": extraction.XLS,
    ".xlsx": extraction.XLSX,
    ".ods": extraction.ODS,
    ".ppt": extraction.PPT,
    ".pptx": extraction.PPTX,
    ".odp": extraction.ODP,
    ".odt": extraction.ODT,
}

#: Files refused when uploaded, with what the refusal says.
REFUSED = {
    "tika__testWORD_protected_passtika.docx": (
        "This file looks like a password-protected Office document (Word, Excel or "
        "PowerPoint): upload an unprotected copy."
    ),
    "tika__testWORD_truncated.docx": (
        "This file looks like a damaged ZIP archive (its directory cannot be read)."
    ),
}
#: Files accepted whose text cannot be read, with the recorded reason.
UNREADABLE = {
    "tika__testWORD_protected_passtika.doc": f"The Word document is {PASSWORD}",
    "tika__testODTEncrypted.odt": f"The OpenDocument text is {PASSWORD}",
}
#: Files whose bytes are not what their name says.
NOT_WHAT_THEY_SAY = {"tika__testODTnotaZipFile.odt": extraction.PLAIN}


def realfiles(*suffixes: str) -> list[Path]:
    """The real files with these suffixes (the test is skipped without the shared material)."""
    folder = shared_data("realfiles")
    if not folder.is_dir():
        pytest.skip(f"the real files are not at {folder}")
    return sorted(p for p in folder.iterdir() if p.suffix in suffixes)


@pytest.fixture(scope="module")
def warm_worker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start the extraction fork server, so timings measure the work."""
    sample = tmp_path_factory.mktemp("warm") / "warm.txt"
    sample.write_text("warm up\n", encoding="utf-8")
    assert extract(sample, extraction.PLAIN).text == "warm up"


def flat(text: str) -> str:
    """Text with every run of whitespace made one space."""
    return " ".join(text.split())


# --- the real files ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("suffix", sorted(KIND_BY_SUFFIX))
def test_every_real_office_file_is_accepted_and_read(suffix: str, warm_worker: None) -> None:
    paths = realfiles(suffix)
    assert paths
    for path in paths:
        if path.name in REFUSED:
            with pytest.raises(UnsupportedType) as refused:
                sniff_file(path)
            assert refused.value.description == REFUSED[path.name]
            continue
        kind = NOT_WHAT_THEY_SAY.get(path.name, KIND_BY_SUFFIX[suffix])
        assert sniff_file(path) == kind, path.name
        # The first 64 KiB tell the same: the directory of a small compound
        # file is there, and the stream names of a larger one.
        with path.open("rb") as handle:
            assert sniff(handle.read(64 * 1024), path.name) == kind, path.name
        started = time.perf_counter()
        result = extract(path, kind)
        assert time.perf_counter() - started < HANG_GUARD_SECONDS, path.name
        if path.name in UNREADABLE:
            assert result == Extraction("", None, UNREADABLE[path.name])
            continue
        assert result.error is None, (path.name, result.error)
        assert words(result.text), path.name


#: Phrases read off each Word file (most are what Apache Tika's tests assert).
DOC_PHRASES = {
    "tika__testWORD.doc": [
        "Sample Word Document",
        "This document includes text that is BOLD and ITALIC.",
        "Apache Tika: http://tika.apache.org/ Tika",
    ],
    "tika__testWORD6.doc": ["The quick brown fox jumps over the lazy dog"],
    "tika__testWORD_various.doc": [
        "Footnote appears here",
        "This is a footnote.",
        "This is the header text.",
        "This is the footer text.",
        "Here is a text box",
        "This is a hyperlink",
        "Figure 1 This is a caption for Figure 1",
        "Row 1 Col 1 Row 1 Col 2 Row 1 Col 3 Row 2 Col 1 Row 2 Col 2 Row 2 Col 3",
        "Row 1 column 1 Row 2 column 1 Row 1 column 2 Row 2 column 2",
        "Suddenly some Japanese text: ゾルゲと尾崎、淡々と最期 （GHQ）",
        "And then some Gothic text: \U00010332\U0001033f\U00010344\U00010339\U00010343\U0001033a",
    ],
    "tika__testWORD_no_format.doc": [
        "Will generate an exception",
        "Administration och övervakning",
    ],
    "tika__testComment.doc": ["Here is some text.", "Here is a comment"],
    "tika__testOptionalHyphen.doc": ["optionalhyphen"],
    "tika__test_TIKA-1251.doc": ["1. Organisering av vakten:", "Formål:"],
    "tika__testMSEquation-govdocs-863534.doc": [
        "Lattice design strategy for the multi-GeV SC linac"
    ],
    # The document is an embedded Word document; its text follows the frame's.
    "tika__testLargeOLEDoc.doc": ["This is an embedded file.This is an embedded file."],
}


def test_word_documents_give_their_known_phrases(warm_worker: None) -> None:
    paths = {p.name: p for p in realfiles(".doc")}
    assert set(DOC_PHRASES) | set(UNREADABLE) >= set(paths)
    for name, phrases in DOC_PHRASES.items():
        result = extract(paths[name], extraction.DOC)
        assert result.error is None, name
        text = flat(result.text)
        for phrase in phrases:
            assert phrase in text, (name, phrase)
        # Field codes and Word's control characters stay out.
        assert "HYPERLINK" not in text and "SEQ" not in text and "EMBED" not in text, name
        assert not re.search("[\x00-\x08\x0b-\x1f]", result.text), name


def test_powerpoint_97_gives_the_live_slides_without_masters(warm_worker: None) -> None:
    paths = {p.name: p for p in realfiles(".ppt")}
    various = extract(paths["tika__testPPT_various.ppt"], extraction.PPT).text
    for phrase in ("Here is a text box", "Row 2 Col 3", "ゾルゲと尾崎、淡々と最期", "(Kramer)"):
        assert phrase in various
    chart = extract(paths["tika__testMSChart-govdocs-428996.ppt"], extraction.PPT).text
    assert "Thin Film Partnership Subcontract Budgets" in flat(chart)
    # Saved twice by PowerPoint X for Mac: the first version of the slide is
    # still in the file, but only the live one counts.
    sample = extract(paths["tika__testPPT.ppt"], extraction.PPT).text
    assert flat(sample).count("Sample Powerpoint Slide") == 1
    assert "Created with Microsoft Powerpoint X for Mac Service Release 1" in flat(sample)
    for text in (various, chart, sample):
        assert "Click to edit Master" not in text
        assert "*" not in text.split()


def test_presentations_show_the_text_their_masters_add(warm_worker: None) -> None:
    (odp,) = realfiles(".odp")
    assert extract(odp, extraction.ODP).text == "Master footer is here"
    pptx = {p.name: p for p in realfiles(".pptx")}["tika__testPPT_masterText.pptx"]
    text = extract(pptx, extraction.PPTX).text
    assert text == "Text that I added to the master slide"


# --- compound files built here ------------------------------------------------------------

SECTOR = 512
ENDOFCHAIN, FREESECT, FATSECT, DIFSECT = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def cfb_header(
    num_fat: int,
    first_dir: int,
    fat_sectors: list[int],
    first_difat: int = ENDOFCHAIN,
    num_difat: int = 0,
) -> bytes:
    """A version 3 compound file header (512-byte sectors)."""
    slots = fat_sectors[:109] + [FREESECT] * (109 - len(fat_sectors[:109]))
    return (
        CFB_MAGIC
        + bytes(16)
        + struct.pack("<HHHHH6x", 0x3E, 3, 0xFFFE, 9, 6)
        + struct.pack("<9I", 0, num_fat, first_dir, 0, 4096, ENDOFCHAIN, 0, first_difat, num_difat)
        + struct.pack("<109I", *slots)
    )


def cfb_entry(
    name: str = "",
    kind: int = 0,
    *,
    left: int = NOSTREAM,
    right: int = NOSTREAM,
    child: int = NOSTREAM,
    start: int = ENDOFCHAIN,
    size: int = 0,
) -> bytes:
    """A 128-byte directory entry (kind 2 a stream, 5 the root, 0 unused)."""
    raw = name.encode("utf-16-le") + b"\0\0" if name else b""
    return (
        raw.ljust(64, b"\0")
        + struct.pack("<HBB3I", len(raw), kind, 1, left, right, child)
        + bytes(36)
        + struct.pack("<3I", start, size, 0)
    )


def build_cfb(streams: dict[str, bytes]) -> bytes:
    """A compound file holding these streams at its top level.

    Each stream is padded to 4,096 bytes, so that all of them live in the
    FAT rather than the mini stream; a DIFAT is written when the FAT needs
    more than the header's 109 sectors.
    """
    names = list(streams)
    datas = [streams[name].ljust(4096, b"\0") for name in names]
    counts = [-(-len(data) // SECTOR) for data in datas]
    entries = [cfb_entry("Root Entry", 5, child=1 if names else NOSTREAM)]
    n_dir = -(-(len(names) + 1) // 4)
    n_fat = n_difat = 0
    while True:  # enough FAT sectors to map every sector, themselves included
        n_difat = max(0, -(-(n_fat - 109) // 127))
        if n_fat * 128 >= n_fat + n_difat + n_dir + sum(counts):
            break
        n_fat += 1
    fat = [FATSECT] * n_fat + [DIFSECT] * n_difat
    first_dir = len(fat)
    fat += [first_dir + i + 1 for i in range(n_dir - 1)] + [ENDOFCHAIN]
    for index, (name, data, count) in enumerate(zip(names, datas, counts, strict=True)):
        start = len(fat)
        fat += [start + k + 1 for k in range(count - 1)] + [ENDOFCHAIN]
        right = index + 2 if index + 1 < len(names) else NOSTREAM
        entries.append(cfb_entry(name, 2, right=right, start=start, size=len(data)))
    entries += [cfb_entry()] * (-len(entries) % 4)
    fat += [FREESECT] * (n_fat * 128 - len(fat))
    rest = list(range(109, n_fat))
    difat = []
    for k in range(n_difat):
        chunk = rest[k * 127 : (k + 1) * 127]
        following = n_fat + k + 1 if k + 1 < n_difat else ENDOFCHAIN
        difat.append(struct.pack("<128I", *chunk, *[FREESECT] * (127 - len(chunk)), following))
    first_difat = n_fat if n_difat else ENDOFCHAIN
    parts = [
        cfb_header(n_fat, first_dir, list(range(n_fat)), first_difat, n_difat),
        struct.pack(f"<{len(fat)}I", *fat),
        *difat,
        *entries,
    ]
    parts += [data.ljust(count * SECTOR, b"\0") for data, count in zip(datas, counts, strict=True)]
    return b"".join(parts)


def cyclic_difat_cfb() -> bytes:
    """A 2 KB compound file whose DIFAT names itself as its next sector, claiming 16 M FAT sectors.

    olefile alone follows it for minutes, growing its FAT by concatenation.
    """
    num_fat = 0x00FFFFFF
    difat_sectors = (num_fat - 109 + 126) // 127
    header = cfb_header(num_fat, 1, [0] * 109, first_difat=0, num_difat=difat_sectors)
    return header + struct.pack("<128I", *[0] * 128) + bytes(SECTOR) * 2


def cyclic_directory_cfb() -> bytes:
    """A Word-looking compound file whose directory chain loops on itself."""
    data = bytearray(build_cfb({"WordDocument": b"\xec\xa5"}))
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    struct.pack_into("<I", data, SECTOR + 4 * first_dir, first_dir)
    return bytes(data)


def deep_directory_cfb(depth: int = 5000) -> bytes:
    """A compound file whose directory tree is one chain of left siblings, depth entries long."""
    entries = [cfb_entry("Root Entry", 5, child=1)]
    for index in range(1, depth + 1):
        entries.append(cfb_entry(f"S{index}", 2, left=index + 1 if index < depth else NOSTREAM))
    entries += [cfb_entry()] * (-len(entries) % 4)
    directory = b"".join(entries)
    n_dir = len(directory) // SECTOR
    n_fat = -(-(n_dir + 1) // 127)
    fat = [FATSECT] * n_fat + [n_fat + i + 1 for i in range(n_dir - 1)] + [ENDOFCHAIN]
    fat += [FREESECT] * (n_fat * 128 - len(fat))
    return (
        cfb_header(n_fat, n_fat, list(range(n_fat)))
        + struct.pack(f"<{len(fat)}I", *fat)
        + directory
    )


def word97_stream(pieces: list[tuple[str, bool]], *, flags: int = 0x0200) -> tuple[bytes, bytes]:
    """The WordDocument stream and the Clx of a Word 97 document.

    Each piece is (text, stored as Windows-1252 rather than UTF-16); the FIB
    places the Clx at the start of the table stream.
    """
    word = bytearray(0x400)
    struct.pack_into("<HH", word, 0, 0xA5EC, 0x00C1)
    struct.pack_into("<H", word, 0x06, 0x0409)
    struct.pack_into("<H", word, 0x0A, flags)
    struct.pack_into("<H", word, 0x20, 14)  # csw
    struct.pack_into("<H", word, 0x3E, 22)  # cslw
    struct.pack_into("<H", word, 0x98, 93)  # cbRgFcLcb
    positions, fcs = [0], []
    for text, compressed in pieces:
        offset = len(word)
        if compressed:
            word += text.encode("cp1252")
            fcs.append(0x40000000 | (offset * 2))
        else:
            word += text.encode("utf-16-le")
            fcs.append(offset)
        positions.append(positions[-1] + len(text))
    plc = struct.pack(f"<{len(positions)}I", *positions)
    plc += b"".join(struct.pack("<HIH", 0, fc, 0) for fc in fcs)
    # A Prc (property modifiers, skipped by readers) before the piece table.
    clx = b"\x01\x02\x00\x00\x00" + b"\x02" + struct.pack("<I", len(plc)) + plc
    struct.pack_into("<II", word, 0x1A2, 0, len(clx))
    return bytes(word), clx


def build_word97(
    pieces: list[tuple[str, bool]], *, flags: int = 0x0200, table: str = "1Table"
) -> bytes:
    """A Word 97 document of these pieces, its table stream under the name table."""
    word, clx = word97_stream(pieces, flags=flags)
    return build_cfb({"WordDocument": word, table: clx})


def build_word6(text: str, *, lid: int, encoding: str) -> bytes:
    """A Word 6 document in the code page of its language."""
    word = bytearray(0x300)
    struct.pack_into("<HHH", word, 0, 0xA5DC, 101, 0)
    struct.pack_into("<H", word, 0x06, lid)
    data = text.encode(encoding)
    struct.pack_into("<II", word, 0x18, 0x300, 0x300 + len(data))
    return build_cfb({"WordDocument": bytes(word) + data})


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_word_fields_cells_hyphens_and_breaks_become_plain_text(
    tmp_path: Path, warm_worker: None
) -> None:
    path = write(
        tmp_path,
        "fields.doc",
        build_word97(
            [
                ('Report \x13 HYPERLINK "http://example.org/" \x14on decent\x15 work\r', True),
                ("Region\x07Members\x07\x07Africa\x0712\x07\x07\r", True),
                ("Соли\x1fдарность\x0bи\x1eкооперация\x0cNext page\r", False),
                ('Total: \x13 IF \x13 PAGE \x14 1\x15 = 1 "one" \x14one\x15 page\x01\x08\r', False),
            ]
        ),
    )
    assert sniff_file(path) == extraction.DOC
    result = extract(path, extraction.DOC)
    assert result.error is None
    assert result.text.splitlines() == [
        "Report on decent work",
        "Region",
        "Members",
        "",
        "Africa",
        "12",
        "",
        "Солидарность",
        "и-кооперация",
        "",
        "Next page",
        "Total: one page",
    ]


def test_word_6_text_is_decoded_in_the_code_page_of_its_language(
    tmp_path: Path, warm_worker: None
) -> None:
    russian = write(
        tmp_path, "ru.doc", build_word6("Доклад о работе\r", lid=0x0419, encoding="cp1251")
    )
    assert extract(russian, extraction.DOC).text == "Доклад о работе"
    french = write(
        tmp_path, "fr.doc", build_word6("Économie sociale\r", lid=0x040C, encoding="cp1252")
    )
    assert extract(french, extraction.DOC).text == "Économie sociale"


def test_word_documents_that_cannot_be_read_say_why(tmp_path: Path, warm_worker: None) -> None:
    encrypted = write(tmp_path, "locked.doc", build_word97([("Secret\r", True)], flags=0x0300))
    assert extract(encrypted, extraction.DOC) == Extraction(
        "", None, f"The Word document is {PASSWORD}"
    )
    no_table = write(tmp_path, "no-table.doc", build_word97([("Text\r", True)], table="Other"))
    assert extract(no_table, extraction.DOC).error == (
        "The Word document is damaged: its 1Table stream is missing."
    )
    spreadsheet = write(tmp_path, "book.doc", build_cfb({"Workbook": b"\x09\x08"}))
    assert sniff_file(spreadsheet) == extraction.XLS


@pytest.mark.slow
def test_a_piece_table_that_repeats_the_text_is_capped(tmp_path: Path, warm_worker: None) -> None:
    # 300,000 pieces, each naming the same 100 characters: 30 M characters of text.
    line = "Social and solidarity economy " * 3 + "012345678\r"
    word, __ = word97_stream([(line, True)])
    count = 300_000
    plc = struct.pack(f"<{count + 1}I", *range(0, 100 * (count + 1), 100))
    plc += struct.pack("<HIH", 0, 0x40000000 | (0x400 * 2), 0) * count
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    word = word[:0x1A2] + struct.pack("<II", 0, len(clx)) + word[0x1AA:]
    path = write(tmp_path, "pieces.doc", build_cfb({"WordDocument": word, "1Table": clx}))
    started = time.perf_counter()
    result = extract(path, extraction.DOC)
    assert time.perf_counter() - started < HANG_GUARD_SECONDS
    assert result.error is None
    assert len(result.text) <= extraction.MAX_TEXT_CHARS
    assert result.text.count("Social and solidarity economy") > 200_000


def test_encrypted_presentations_and_office_packages_are_named(
    tmp_path: Path, warm_worker: None
) -> None:
    # A CurrentUserAtom with the token PowerPoint writes for encrypted files.
    current_user = struct.pack("<HHI", 0, 0x0FF6, 20) + struct.pack("<II", 20, 0xF3D1C4DF)
    deck = write(
        tmp_path,
        "locked.ppt",
        build_cfb({"Current User": current_user, "PowerPoint Document": b"\x0f\x00"}),
    )
    assert sniff_file(deck) == extraction.PPT
    assert extract(deck, extraction.PPT).error == f"The presentation is {PASSWORD}"
    package = write(
        tmp_path, "locked.xlsx", build_cfb({"EncryptionInfo": b"\x04", "EncryptedPackage": b"x"})
    )
    with pytest.raises(UnsupportedType, match="password-protected Office document"):
        sniff_file(package)
    outlook = write(tmp_path, "mail.doc", build_cfb({"__substg1.0_0037001F": b"S"}))
    with pytest.raises(UnsupportedType, match="Outlook message"):
        sniff_file(outlook)
    other = write(tmp_path, "thumbs.doc", build_cfb({"Catalog": b"x"}))
    with pytest.raises(UnsupportedType, match="not a Word, Excel or PowerPoint document"):
        sniff_file(other)


def nested_records_ppt() -> bytes:
    """A presentation of 100,000 empty containers, each claiming 4 GB, then one text atom.

    Its Current User points nowhere, so the whole stream is walked.
    """
    text = "Still found".encode("utf-16-le")
    stream = struct.pack("<HHI", 0x000F, 0x03E8, 0xFFFFFFFF) * 100_000
    stream += struct.pack("<HHI", 0, 0x0FA0, len(text)) + text
    current_user = struct.pack("<HHI", 0, 0x0FF6, 20) + struct.pack("<III", 20, 0xE391C05F, 999)
    return build_cfb({"Current User": current_user, "PowerPoint Document": stream})


def test_a_powerpoint_stream_of_nested_records_is_walked_in_bounds(
    tmp_path: Path, warm_worker: None
) -> None:
    deck = write(tmp_path, "nested.ppt", nested_records_ppt())
    started = time.perf_counter()
    assert extract(deck, extraction.PPT) == Extraction("Still found", None, None)
    assert time.perf_counter() - started < HANG_GUARD_SECONDS


@pytest.mark.parametrize(
    "build", [cyclic_difat_cfb, cyclic_directory_cfb, deep_directory_cfb], ids=lambda b: b.__name__
)
def test_hostile_compound_files_are_refused_quickly_in_the_web_process(
    build: Callable[[], bytes], tmp_path: Path, warm_worker: None
) -> None:
    path = write(tmp_path, "hostile.doc", build())
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(UnsupportedType, match="damaged Microsoft Office file"):
            sniff_file(path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < HANG_GUARD_SECONDS
    assert peak < 20 * 1024 * 1024
    # Named a Word document all the same, the reader gives a reason.
    result = extract(path, extraction.DOC)
    assert result.text == "" and result.error.startswith("The Word document is damaged")


def test_a_large_compound_file_is_sniffed_in_linear_time(tmp_path: Path) -> None:
    # 40 MB: a FAT of some 650 sectors, most of them listed in DIFAT sectors.
    path = write(
        tmp_path, "large.doc", build_cfb({"WordDocument": b"\xec\xa5", "Data": bytes(40 << 20)})
    )
    started = time.perf_counter()
    assert sniff_file(path) == extraction.DOC
    assert time.perf_counter() - started < HANG_GUARD_SECONDS


# --- workbooks built here ----------------------------------------------------------------


def test_cells_are_written_as_a_spreadsheet_shows_them(tmp_path: Path, warm_worker: None) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Budget"
    sheet.append(["Item", "Amount", "Share", "Due", "Signed", "Paid", "At"])
    sheet.append(
        [
            "Cooperatives",
            1250.0,
            0.1 + 0.2,
            datetime.date(2024, 3, 1),
            datetime.datetime(2024, 3, 1, 14, 30),
            True,
            datetime.time(9, 15),
        ]
    )
    sheet.append(["Huge", 1e20, 1234567.89, None, None, False, None])
    empty = workbook.create_sheet("Empty")
    assert empty.max_row == 1
    hidden = workbook.create_sheet("Notes")
    hidden["B2"] = "Hidden sheets are read too"
    hidden.sheet_state = "hidden"
    path = tmp_path / "budget.xlsx"
    workbook.save(path)
    assert sniff_file(path) == extraction.XLSX
    result = extract(path, extraction.XLSX)
    assert result.error is None
    assert result.text.splitlines() == [
        "Budget",
        "Item Amount Share Due Signed Paid At",
        "Cooperatives 1250 0.3 2024-03-01 2024-03-01 14:30:00 TRUE 09:15:00",
        "Huge 1e+20 1234567.89 FALSE",
        "",
        "Empty",
        "",
        "Notes",
        "Hidden sheets are read too",
    ]


CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    "</Types>"
)
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"


def sparse_xlsx(far_cell: str) -> bytes:
    """A workbook whose one sheet has a cell at A1 and one at far_cell, and a normal sheet."""
    row = re.sub("[A-Z]", "", far_cell)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
            f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'xmlns:r="{RELS}"><sheets><sheet name="Far" sheetId="1" r:id="rId1"/>'
            '<sheet name="Near" sheetId="2" r:id="rId2"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELS}/worksheet" Target="worksheets/sheet2.xml"/>'
            "</Relationships>",
        )
        main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            f'first</t></is></c></row><row r="{row}"><c r="{far_cell}" t="inlineStr"><is><t>'
            "last</t></is></c></row></sheetData></worksheet>",
        )
        archive.writestr(
            "xl/worksheets/sheet2.xml",
            f'<worksheet xmlns="{main}"><sheetData><row><c t="inlineStr"><is><t>Near by</t></is>'
            "</c><c><v>2</v></c></row></sheetData></worksheet>",
        )
    return data.getvalue()


def test_a_sheet_too_large_for_calamine_is_left_out_with_a_message(
    tmp_path: Path, warm_worker: None
) -> None:
    # Two cells, 17 billion in between: calamine would abort the process.
    path = write(tmp_path, "sparse.xlsx", sparse_xlsx("XFD1048576"))
    assert sniff_file(path) == extraction.XLSX
    result = extract(path, extraction.XLSX)
    assert result.text == "Near\nNear by 2"
    assert result.error == (
        "Some sheets were too large to read ('Far'): at most 4,000,000 cells are read "
        "per sheet and 10,000,000 per workbook."
    )
    modest = write(tmp_path, "modest.xlsx", sparse_xlsx("Z1000"))
    assert extract(modest, extraction.XLSX) == Extraction(
        "Far\nfirst\nlast\n\nNear\nNear by 2", None, None
    )


def ods_bytes(rows: str, *, encrypted: bool = False, mimetype: str = extraction.ODS) -> bytes:
    """An OpenDocument spreadsheet (or another ODF type) with a sheet of these rows."""
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    manifest = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    encryption = (
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB"/></manifest:encryption-data>'
    )
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "content.xml",
            b"\x8f\x02 encrypted bytes"
            if encrypted
            else (
                f'<office:document-content xmlns:office="{office}" '
                'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                'office:version="1.2"><office:body><office:spreadsheet>'
                f'<table:table table:name="Members">{rows}</table:table>'
                "</office:spreadsheet></office:body></office:document-content>"
            ),
        )
        archive.writestr(
            "META-INF/manifest.xml",
            f'<manifest:manifest xmlns:manifest="{manifest}" manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
            f"{encryption if encrypted else ''}</manifest:file-entry></manifest:manifest>",
        )
    return data.getvalue()


ODS_CELL = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
ODS_HEADER = (
    f"<table:table-row>{ODS_CELL.format('Name')}{ODS_CELL.format('Country')}</table:table-row>"
)


def repeated_cells_ods() -> bytes:
    """A 1 KB spreadsheet asking for 10 million filled cells (calamine would take 1.2 GB)."""
    return ods_bytes(
        ODS_HEADER + '<table:table-row table:number-rows-repeated="10000">'
        '<table:table-cell office:value-type="string" table:number-columns-repeated="1000">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )


def test_repeated_cells_in_an_ods_cannot_balloon(tmp_path: Path, warm_worker: None) -> None:
    trailing = (
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    # Empty repeated rows after the data, as every ODS writer leaves them: read normally.
    ordinary = write(tmp_path, "ordinary.ods", ods_bytes(ODS_HEADER + trailing))
    assert sniff_file(ordinary) == extraction.ODS
    assert extract(ordinary, extraction.ODS) == Extraction("Members\nName Country", None, None)
    # Filled repeated cells: read as text, each repeated cell once.
    path = write(tmp_path, "bomb.ods", repeated_cells_ods())
    assert path.stat().st_size < 2000
    started = time.perf_counter()
    result = extract(path, extraction.ODS)
    assert time.perf_counter() - started < HANG_GUARD_SECONDS
    assert result == Extraction("Members\nName\nCountry\nx", None, None)


def test_encrypted_opendocument_files_get_the_password_message(
    tmp_path: Path, warm_worker: None
) -> None:
    for media_type, what in (
        (extraction.ODS, "spreadsheet"),
        (extraction.ODP, "OpenDocument presentation"),
        (extraction.ODT, "OpenDocument text"),
    ):
        path = write(tmp_path, "locked.zip", ods_bytes("", encrypted=True, mimetype=media_type))
        assert sniff_file(path) == media_type
        assert extract(path, media_type) == Extraction("", None, f"The {what} is {PASSWORD}")


def test_a_workbook_that_is_not_one_is_reported_damaged(tmp_path: Path, warm_worker: None) -> None:
    path = write(tmp_path, "broken.xls", build_cfb({"Workbook": b"\x00" * 64}))
    assert sniff_file(path) == extraction.XLS
    assert extract(path, extraction.XLS) == Extraction(
        "", None, "The spreadsheet is damaged: no sheet can be found in it."
    )
