"""Tests for the clean-up that the text of every format goes through."""

from __future__ import annotations

import time

import pytest

from knowledge_hub.extraction.text import normalise_text
from knowledge_hub.extraction.text import page_ranges

# ---------------------------------------------------------------------------
# Clean-up of extracted text (all formats)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # Ligatures and other compatibility characters.
        ("the \ufb01nancial \ufb02ow, e\ufb03cient", "the financial flow, efficient"),
        ("\uff21\uff22\uff23 \uff11\uff12\uff13", "ABC 123"),
        ("x\u00b2 and \u2460", "x2 and 1"),
        # Arabic presentation forms become letters, lam-alef included.
        ("\ufe8d\ufedf\ufefc\ufe8b\ufea4\ufe94 \ufefb", "اللائحة لا"),
        # Chinese keeps its full-width punctuation; full-width digits become ASCII.
        (
            "人人生而自由，在尊严和权利上一律平等。\uff12\uff10\uff12\uff14年（草案）",
            "人人生而自由，在尊严和权利上一律平等。2024年（草案）",
        ),
        ("Привет. Как дела? مرحبا بالعالم 你好 世界 حَبيبي", None),
        # Words broken at the end of a line.
        ("the finan-\ncial report", "the financial report"),
        ("social and solidarity eco-\nnomy", "social and solidarity economy"),
        ("Franco-\nGerman talks", "Franco-German talks"),
        ("cooperation with non-\nUN bodies", "cooperation with non-UN bodies"),
        ("THE FINAN-\nCIAL YEAR", "THE FINANCIAL YEAR"),
        ("decision-making, as in decision-\nmaking", "decision-making, as in decision-making"),
        ("COVID-\n19", "COVID-\n19"),
        ("end of page-\n\nnext page", "end of page-\n\nnext page"),
        ("- first\n- second", "- first\n- second"),
        ("soft\u00ad\nhyphen", "softhyphen"),
        # PDFium's marks where it joined a hyphenated word.
        ("consectetuer adip\x02iscing elit", "consectetuer adipiscing elit"),
        ("adip\ufffeiscing", "adipiscing"),
        ("A5 (Schwarz\x02Weiß, Ringbindung)", "A5 (Schwarz-Weiß, Ringbindung)"),
        # Control characters go; tabs, line ends and page breaks become spaces and lines.
        ("abgeschlossen. \x04\r\nBeispiel\x13 \x08", "abgeschlossen.\nBeispiel"),
        ("a\tb\x00c\x1bd\u200be\ufeff", "a bcde"),
        ("one\x0ctwo\r\nthree\rfour", "one\ntwo\nthree\nfour"),
    ],
)
def test_text_clean_up(raw: str, clean: str | None) -> None:
    assert normalise_text(raw) == (raw if clean is None else clean)


def test_clean_up_keeps_the_order_of_right_to_left_text() -> None:
    arabic = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."
    assert normalise_text(f"Article 1: {arabic}") == f"Article 1: {arabic}"


def test_clean_up_stays_fast_on_long_runs_without_spaces() -> None:
    chinese = "人人生而自由" * 200_000 + "-\n好"
    started = time.perf_counter()
    assert normalise_text(chinese + "adip\x02iscing").endswith("好adipiscing")
    assert time.perf_counter() - started < 5


def test_page_ranges() -> None:
    assert page_ranges([4], 6) == "page 4 of 6"
    assert page_ranges([1, 2, 3, 5, 6], 6) == "pages 1\u20133, 5\u20136 of 6"
    assert page_ranges(range(213, 353)) == "pages 213\u2013352"
