"""Text decoded in the encoding that fits it, whatever its page declares.

The real pages of shared/data/realfiles (Apache Tika's HTML test documents: a UTF-16
page, Arabic under a false or a noisy charset) go through the sniffer and the reader;
the rest is built here, byte by byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_hub import extraction
from knowledge_hub.extraction import extract_in_process
from knowledge_hub.extraction import sniff_file
from knowledge_hub.extraction.text import DETECT_BYTES
from tests.conftest import shared_data

HTML = extraction.HTML
PLAIN = extraction.PLAIN

UNDECODABLE = "Part of the text could not be decoded: it was read as"

RUSSIAN = "Все люди рождаются свободными и равными в своем достоинстве и правах."
ARABIC = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق."
JAPANESE = "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。"
CHINESE = "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。"
FRENCH = "Le comité a décidé d’étendre la portée du programme à l’économie sociale — déjà."


def realfile(name: str) -> Path:
    """A real file of the shared material (the test is skipped without it)."""
    path = shared_data("realfiles", name)
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared material")
    return path


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    """Write data to a file called name in tmp_path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cuts_a_character(prefix: bytes) -> bool:
    """Tell whether a prefix of Shift_JIS text ends inside a character."""
    try:
        prefix.decode("shift_jis")
    except UnicodeDecodeError:
        return True
    return False


# --- the encoding that fits ---------------------------------------------------------------


def test_arabic_under_a_false_charset_is_read_as_arabic() -> None:
    page = realfile("tika__testArabicMisleadingCharset.html")
    # The page says UTF-8; its bytes are Windows-1256.
    assert b"charset=UTF-8" in page.read_bytes()
    result = extract_in_process(page, sniff_file(page))
    assert result.error is None
    assert "\ufffd" not in result.text
    assert "في قرية من القرى كان هناك رجل حكيم يعرف كل شيء عن الحياة" in result.text
    assert "اللغة العربية هي واحدة من أكثر اللغات انتشارا في العالم" in result.text


def test_noisy_meta_charset_and_utf16_pages_read_correctly() -> None:
    noisy = realfile("tika__testHTMLNoisyMetaEncoding_1.html")
    result = extract_in_process(noisy, sniff_file(noisy))
    assert result.error is None and "\ufffd" not in result.text
    assert "وأعرب الاتحاد الجزائري وقتها عن" in result.text
    assert "@font-face" not in result.text

    utf16 = realfile("tika__testHTML_charset_utf16le.html")
    assert utf16.read_bytes().startswith(b"\xff\xfe<\x00")
    result = extract_in_process(utf16, sniff_file(utf16))
    assert (result.text, result.error) == ("Title\n\nThis is a sample text", None)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (RUSSIAN, "cp1251"),
        (RUSSIAN, "koi8-r"),
        (ARABIC, "cp1256"),
        (JAPANESE, "shift_jis"),
        (CHINESE, "gbk"),
        (FRENCH, "cp1252"),
        ("Café “déjà vu” – naïve", "cp1252"),
    ],
)
def test_undeclared_legacy_text_is_read_in_the_encoding_that_fits(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = written(tmp_path, "note.txt", f"{text}\n{text}\n".encode(encoding))
    assert sniff_file(path) == PLAIN
    assert extract_in_process(path, PLAIN) == extraction.Extraction(f"{text}\n{text}", None, None)


def test_a_declared_charset_that_does_not_fit_gives_way(tmp_path: Path) -> None:
    page = (
        "<html><head><meta charset='utf-8'><title>Отчёт</title></head>"
        f"<body><p>{RUSSIAN}</p><p>{RUSSIAN}</p></body></html>"
    ).encode("cp1251")
    path = written(tmp_path, "report.html", page)
    assert sniff_file(path) == HTML
    assert extract_in_process(path, HTML).text == f"Отчёт\n\n{RUSSIAN}\n\n{RUSSIAN}"

    # A charset that fits is kept, even where a guess would differ.
    greek = "Η κοινωνική και αλληλέγγυα οικονομία."
    path = written(
        tmp_path,
        "greek.html",
        f"<meta charset='iso-8859-7'><p>{greek}</p>".encode("iso-8859-7"),
    )
    assert extract_in_process(path, HTML).text == greek


def test_utf8_with_a_few_bad_bytes_stays_utf8_and_says_so(tmp_path: Path) -> None:
    data = f"{FRENCH}\n".encode() * 20 + b"caf\xe9\n" + f"{RUSSIAN}\n".encode() * 20
    path = written(tmp_path, "mixed.txt", data)
    result = extract_in_process(path, PLAIN)
    assert FRENCH in result.text and RUSSIAN in result.text
    assert "caf\ufffd" in result.text
    assert result.error is not None
    assert result.error.startswith(f"{UNDECODABLE} UTF-8")


def test_a_damaged_utf16_file_keeps_its_text_and_says_so(tmp_path: Path) -> None:
    data = b"\xff\xfe" + "Hello ".encode("utf-16-le") + b"\x00\xd8" + " world".encode("utf-16-le")
    result = extract_in_process(written(tmp_path, "damaged.txt", data), PLAIN)
    assert result.text == "Hello \ufffd world"
    assert result.error is not None and result.error.startswith(f"{UNDECODABLE} UTF-16-LE")


def test_detection_reads_the_start_of_a_large_file(tmp_path: Path) -> None:
    """Only the first DETECT_BYTES are judged, and a character they cut in two
    does not mislead the judgement."""
    line = f"{JAPANESE}\n".encode("shift_jis")
    data = line * (2 * DETECT_BYTES // len(line))
    if not cuts_a_character(data[:DETECT_BYTES]):
        data = b"x" + data
    assert cuts_a_character(data[:DETECT_BYTES])
    path = written(tmp_path, "long.txt", data)
    result = extract_in_process(path, PLAIN)
    assert result.error is None
    assert result.text.count(JAPANESE) == data.count(b"\n")
