"""Every real file of shared/data/realfiles, read by the hub and by an independent reader.

The files are what other projects keep to test their own readers: old Word, Excel and
PowerPoint, OpenDocument, RTF in several code pages, HTML with lying charsets, EPUB,
PDFs in six scripts and scans. Each goes through the real sniffer and the real sandbox
once (the module's fixture); tests/references.py reads it again with a reader that
shares nothing with the hub, and the tests compare: the share of the reference's words
that the hub recovers, per format; that no file the reference can read is refused; that
Arabic, Chinese and Russian come out in their script and in order; and that scans are
told apart from damaged files.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge_hub.extraction import Extraction
from knowledge_hub.extraction import UnsupportedType
from knowledge_hub.extraction import extract
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction.outcome import TextState
from knowledge_hub.extraction.outcome import text_outcome
from tests import references
from tests.conftest import shared_data

pytestmark = pytest.mark.slow

#: Files the reference reader gets wrong, with what it gets wrong; the hub's reading of
#: each is checked exactly elsewhere.
REFERENCE_FAULTS = {
    # pdftotext gives the Arabic in visual order, letters reversed ("يبيبَح");
    # tests/test_extraction_pdf.py checks the hub's "حَبيبي habibi حَبيبي".
    "pypdf__habibi.pdf": "pdftotext reverses its Arabic",
}

#: Files refused at upload, and why: neither the hub nor the reference can read them.
REFUSED = {
    "tika__testWORD_protected_passtika.docx": "password-protected",
    "tika__testWORD_truncated.docx": "damaged ZIP archive",
}

#: Scans without a text layer: no words for pdftotext either.
SCANS = {
    "ocrmypdf__c02-22.pdf",
    "ocrmypdf__cardinal.pdf",
    "ocrmypdf__ccitt.pdf",
    "ocrmypdf__francais.pdf",
    "ocrmypdf__jbig2.pdf",
    "ocrmypdf__linn.pdf",
    "ocrmypdf__skew.pdf",
}

#: The least share of a format's words the hub must recover, as the median over its files.
MEDIAN_RECOVERED = 0.95
#: The least share of a script's words that must come in the reference's order.
IN_ORDER = 0.9


@dataclass(frozen=True)
class Reading:
    """What the hub and the reference made of one file."""

    path: Path
    refused: str | None  # the sniffer's refusal, if the hub refuses the file
    extraction: Extraction | None
    reference: str | None  # None when no reader is meant for it or it cannot read it

    @property
    def text(self) -> str:
        return self.extraction.text if self.extraction else ""


@pytest.fixture(scope="module")
def readings() -> dict[str, Reading]:
    folder = shared_data("realfiles")
    if not folder.is_dir():
        pytest.skip(f"the real files are not at {folder}")
    found = {}
    for path in sorted(folder.iterdir()):
        if path.name == "README.md":
            continue
        refused, extraction = None, None
        try:
            extraction = extract(path, sniff_file(path))
        except UnsupportedType as e:
            refused = e.description
        try:
            reference = references.reference_text(path)
        except (references.NoReference, references.ReferenceRefuses):
            reference = None
        found[path.name] = Reading(path, refused, extraction, reference)
    assert len(found) >= 90
    return found


def by_format(readings: dict[str, Reading]) -> dict[str, list[Reading]]:
    formats: dict[str, list[Reading]] = {}
    for reading in readings.values():
        formats.setdefault(reading.path.suffix, []).append(reading)
    return formats


def test_every_format_recovers_the_independent_readers_words(
    readings: dict[str, Reading],
) -> None:
    medians = {}
    for suffix, group in sorted(by_format(readings).items()):
        shares = {
            r.path.name: share
            for r in group
            if r.reference is not None and r.path.name not in REFERENCE_FAULTS
            if (share := references.recovered(r.reference, r.text)) is not None
        }
        if shares:  # an ODP whose only words are on its master slide has none to compare
            medians[suffix] = statistics.median(shares.values())
            assert medians[suffix] >= MEDIAN_RECOVERED, (suffix, shares)
    # Every format of the archive is measured, not only the easy ones.
    assert set(medians) >= set(
        ".pdf .doc .docx .xls .xlsx .ods .ppt .pptx .odt .rtf .html .epub".split()
    )


def test_no_file_that_the_reference_reads_is_refused_or_left_empty(
    readings: dict[str, Reading],
) -> None:
    for name, reading in readings.items():
        if reading.reference is None or not references.words(reading.reference):
            continue
        assert reading.refused is None, (name, reading.refused)
        assert references.words(reading.text), (name, reading.extraction)


def test_refused_files_are_the_ones_nobody_can_read(readings: dict[str, Reading]) -> None:
    refused = {name: r.refused for name, r in readings.items() if r.refused is not None}
    assert set(refused) == set(REFUSED)
    for name, refusal in refused.items():
        assert REFUSED[name] in refusal
        assert readings[name].reference is None


@pytest.mark.parametrize("script", sorted(references.SCRIPTS))
def test_arabic_chinese_and_russian_come_out_in_their_script_and_order(
    readings: dict[str, Reading], script: str
) -> None:
    compared = {}
    for name, reading in readings.items():
        if reading.reference is None or name in REFERENCE_FAULTS:
            continue
        share = references.in_order(reading.reference, reading.text, script)
        if share is not None:
            compared[name] = share
    # Each script is in several real files, in more than one format.
    assert len({Path(name).suffix for name in compared}) >= 2, compared
    assert all(share >= IN_ORDER for share in compared.values()), compared


def state_of(reading: Reading) -> TextState:
    """The state the hub stores for the file's text (what staff pages and hub check show)."""
    assert reading.extraction is not None, reading.path.name
    return text_outcome(bool(reading.extraction.text), reading.extraction.error).state


def test_scans_are_told_to_need_ocr_not_reported_damaged(readings: dict[str, Reading]) -> None:
    for name in SCANS:
        assert state_of(readings[name]) == TextState.NEEDS_OCR, name
        reference = readings[name].reference
        assert reference is not None and not references.words(reference)
    # The mostly scanned one keeps the text of its one page with a text layer, and is
    # told to be read in part for want of OCR.
    partly = readings["ocrmypdf__multipage.pdf"]
    assert state_of(partly) == TextState.PARTIAL
    assert references.words(partly.text)
    # No other file is taken for a scan, and nothing the reference reads has failed.
    needing_ocr = {
        name for name, r in readings.items() if r.extraction and state_of(r) == TextState.NEEDS_OCR
    }
    assert needing_ocr == SCANS
    for name, reading in readings.items():
        if reading.reference and references.words(reading.reference):
            assert state_of(reading) in (TextState.COMPLETE, TextState.PARTIAL), name
