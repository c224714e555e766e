"""The one reader of untrusted ZIP archives, shared by the extractor and the bulk import.

Archives are built here with zipfile, then edited by hand where zipfile would not
write what a hostile archive holds: sizes that lie, a link's mode, the encryption
flag, a member count the end record inflates. Each refusal is checked by its
reason code; the end of the file sends the same hostile archives through the
import and the extractor, which must both refuse them.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from knowledge_hub.extraction import DOCX
from knowledge_hub.extraction import extract_in_process
from knowledge_hub.extraction.safezip import EXTRACTION_LIMITS
from knowledge_hub.extraction.safezip import Refusal
from knowledge_hub.extraction.safezip import SafeZip
from knowledge_hub.extraction.safezip import UnsafeZip
from knowledge_hub.extraction.safezip import ZipLimits
from knowledge_hub.services import Invalid
from knowledge_hub.services import imports
from knowledge_hub.services.users import system_user

MIB = 1024 * 1024
ZIP_BOMB = "The file looks like a ZIP bomb"

#: Limits like the import's, small enough to reach in a test.
FOLDER = ZipLimits(
    max_members=10,
    max_records=40,
    max_total_bytes=MIB,
    folder=True,
    ignore=re.compile(r"(^|/)__MACOSX/"),
)


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=method)
    return out.getvalue()


def write(tmp_path: Path, data: bytes, name: str = "archive.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def central_record(data: bytes | bytearray, name: str) -> int:
    """The offset of a member's central directory record (its name follows 46 fixed bytes)."""
    offset = bytes(data).rindex(name.encode()) - 46
    assert data[offset : offset + 4] == b"PK\x01\x02"
    return offset


def local_header(data: bytes | bytearray, name: str) -> int:
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        offset = archive.getinfo(name).header_offset
    assert data[offset : offset + 4] == b"PK\x03\x04"
    return offset


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Make both headers of a member declare size bytes unpacked, whatever it holds."""
    edited = bytearray(data)
    struct.pack_into("<I", edited, local_header(data, name) + 22, size)
    struct.pack_into("<I", edited, central_record(data, name) + 24, size)
    return bytes(edited)


def read_all(path: Path, limits: ZipLimits) -> dict[str, bytes]:
    with SafeZip(path, limits) as archive:
        return {info.filename: b"".join(archive.chunks(info)) for info in archive.members}


def refusal(path: Path, limits: ZipLimits) -> UnsafeZip:
    with pytest.raises(UnsafeZip) as caught:
        read_all(path, limits)
    return caught.value


def test_a_sound_archive_is_read_whole_and_its_clutter_left_out(tmp_path: Path) -> None:
    members = {f"docs/f{i}.txt": f"file {i}".encode() for i in range(9)}
    members["docs/"] = b""  # a folder is a member too
    members["__MACOSX/docs/._f0.txt"] = b"\x00\x05\x16\x07"
    path = write(tmp_path, zip_bytes(members))
    contents = read_all(path, FOLDER)
    assert "__MACOSX/docs/._f0.txt" not in contents
    assert contents["docs/f3.txt"] == b"file 3" and contents["docs/"] == b""
    with SafeZip(path, FOLDER) as archive:
        assert archive.has("docs/f8.txt") and not archive.has("__MACOSX/docs/._f0.txt")
        assert archive.read("docs/f8.txt") == b"file 8"
        assert archive.bytes_read == len(b"file 8")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/evil", Refusal.ABSOLUTE_PATH),
        ("\\windows\\evil", Refusal.ABSOLUTE_PATH),
        ("C:evil", Refusal.ABSOLUTE_PATH),
        ("c:/windows/evil", Refusal.ABSOLUTE_PATH),
        ("../evil", Refusal.OUTSIDE),
        ("docs/../../evil", Refusal.OUTSIDE),
        ("docs\\..\\..\\evil", Refusal.OUTSIDE),
        ("docs/..", Refusal.OUTSIDE),
        ("bell\x07.txt", Refusal.CONTROL_CHARACTERS),
        ("line\nbreak.txt", Refusal.CONTROL_CHARACTERS),
    ],
)
def test_a_name_that_leaves_the_folder_is_refused(
    tmp_path: Path, name: str, reason: Refusal
) -> None:
    path = write(tmp_path, zip_bytes({"agenda.txt": b"Agenda.", name: b"owned"}))
    refused = refusal(path, FOLDER)
    assert refused.reason == reason
    assert refused.params == {"name": name}
    # Document packages are read in memory, never unpacked: names do not matter there.
    assert read_all(path, EXTRACTION_LIMITS)[name] == b"owned"


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("agenda.txt", b"Agenda.")
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, b"/etc/passwd")
    refused = refusal(write(tmp_path, out.getvalue()), FOLDER)
    assert (refused.reason, refused.params) == (Refusal.SYMBOLIC_LINK, {"name": "link.txt"})


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"agenda.txt": b"Agenda.", "secret.txt": b"Hidden."}))
    # Bit 0 of the general purpose flags, in the local header and the central record.
    data[local_header(data, "secret.txt") + 6] |= 0x1
    data[central_record(data, "secret.txt") + 8] |= 0x1
    path = write(tmp_path, bytes(data))
    refused = refusal(path, FOLDER)
    assert (refused.reason, refused.params) == (Refusal.ENCRYPTED, {"name": "secret.txt"})
    # The extractor leaves encrypted members to zipfile, which asks for a password.
    with pytest.raises(RuntimeError, match="password required"):
        read_all(path, EXTRACTION_LIMITS)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("minutes/a.txt", "Minutes/A.TXT"),
        ("minutes/a.txt", "minutes/./a.txt"),
        ("minutes/a.txt", "minutes//a.txt"),
        ("minutes/a.txt", "minutes\\a.txt"),
    ],
)
def test_two_members_at_the_same_path_are_refused(tmp_path: Path, first: str, second: str) -> None:
    path = write(tmp_path, zip_bytes({first: b"one", second: b"two"}))
    refused = refusal(path, FOLDER)
    assert (refused.reason, refused.params) == (Refusal.DUPLICATE, {"name": second})


def test_the_same_name_twice_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", b"one")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("a.txt", b"two")
    refused = refusal(write(tmp_path, out.getvalue()), FOLDER)
    assert (refused.reason, refused.params) == (Refusal.DUPLICATE, {"name": "a.txt"})


def test_too_many_members_are_refused_and_clutter_is_not_counted(tmp_path: Path) -> None:
    eleven = write(tmp_path, zip_bytes({f"f{i}.txt": b"x" for i in range(11)}), "eleven.zip")
    refused = refusal(eleven, FOLDER)
    assert (refused.reason, refused.params) == (
        Refusal.TOO_MANY_MEMBERS,
        {"count": 11, "limit": 10},
    )
    members = {f"f{i}.txt": b"x" for i in range(10)}
    members |= {f"__MACOSX/._f{i}.txt": b"x" for i in range(10)}
    assert len(read_all(write(tmp_path, zip_bytes(members), "ten.zip"), FOLDER)) == 10


def test_a_directory_of_too_many_records_is_refused_from_its_end_record(tmp_path: Path) -> None:
    clutter = {f"__MACOSX/._f{i}.txt": b"x" for i in range(41)}
    refused = refusal(write(tmp_path, zip_bytes(clutter), "clutter.zip"), FOLDER)
    assert (refused.reason, refused.params) == (
        Refusal.TOO_MANY_MEMBERS,
        {"count": 41, "limit": 10},
    )
    # One member, but an end record declaring 60,000: refused on that word alone.
    data = bytearray(zip_bytes({"a.txt": b"x"}))
    end = data.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 60_000, 60_000)
    boasting = write(tmp_path, bytes(data), "boasting.zip")
    for limits in (FOLDER, EXTRACTION_LIMITS):
        refused = refusal(boasting, limits)
        assert refused.reason == Refusal.TOO_MANY_MEMBERS
        assert refused.params == {"count": 60_000, "limit": limits.max_members}


def test_declared_sizes_over_the_limit_are_refused_before_reading(tmp_path: Path) -> None:
    together = zip_bytes({"a.bin": bytes(600 * 1024), "b.bin": bytes(600 * 1024)})
    refused = refusal(write(tmp_path, together, "together.zip"), FOLDER)
    assert (refused.reason, refused.params) == (Refusal.TOO_LARGE, {"limit": MIB})
    # A member that claims 3 GiB while it holds 7 bytes.
    boasting = declare_size(zip_bytes({"a.txt": b"Agenda."}), "a.txt", 3 * 1024 * MIB)
    for limits in (FOLDER, EXTRACTION_LIMITS):
        refused = refusal(write(tmp_path, boasting, "boasting.zip"), limits)
        assert (refused.reason, refused.params) == (
            Refusal.TOO_LARGE,
            {"limit": limits.max_total_bytes},
        )


def test_a_member_declaring_less_than_it_holds_yields_no_more_than_declared(
    tmp_path: Path,
) -> None:
    liar = declare_size(zip_bytes({"a.txt": b"a" * 100_000}), "a.txt", 1000)
    path = write(tmp_path, liar)
    with SafeZip(path, FOLDER) as archive:
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            b"".join(archive.chunks(archive.names["a.txt"]))
        assert archive.bytes_read <= 1000


def test_what_really_comes_out_is_counted_against_the_limits(tmp_path: Path) -> None:
    path = write(tmp_path, zip_bytes({"a.bin": bytes(5000), "b.bin": bytes(900)}))
    capped = ZipLimits(max_members=10, max_records=10, max_total_bytes=8000, max_member_bytes=1000)
    with SafeZip(path, capped) as archive:
        assert archive.read("b.bin") == bytes(900)
        with pytest.raises(UnsafeZip) as caught:
            archive.read("a.bin")
        assert caught.value.reason == Refusal.MEMBER_TOO_LARGE
        assert caught.value.params == {"name": "a.bin", "limit": 1000}
        # Each read counts again: the directory's sizes are checked once, the bytes each time.
        for __ in range(7):
            archive.read("b.bin")
        with pytest.raises(UnsafeZip) as caught:
            archive.read("b.bin")
        assert (caught.value.reason, caught.value.params) == (Refusal.TOO_LARGE, {"limit": 8000})


def test_a_ratio_bomb_is_refused_when_read(tmp_path: Path) -> None:
    # 8 MiB of zeros deflate to about 8 KiB: a ratio near 1000.
    bomb = write(tmp_path, zip_bytes({"small.txt": bytes(1000), "bomb.bin": bytes(8 * MIB)}))
    with SafeZip(bomb, EXTRACTION_LIMITS) as archive:
        assert archive.read("small.txt") == bytes(1000)
        with pytest.raises(UnsafeZip) as caught:
            archive.read("bomb.bin")
        assert caught.value.reason == Refusal.RATIO
        assert caught.value.params == {"name": "bomb.bin", "limit": EXTRACTION_LIMITS.max_ratio}
        assert archive.bytes_read == 1000
    # The same bytes stored without compression are no bomb.
    stored = write(tmp_path, zip_bytes({"b.bin": bytes(2 * MIB)}, zipfile.ZIP_STORED), "s.zip")
    assert len(read_all(stored, EXTRACTION_LIMITS)["b.bin"]) == 2 * MIB


def test_an_unsafe_zip_names_its_reason_and_parameters() -> None:
    refused = UnsafeZip(Refusal.OUTSIDE, name="../evil")
    assert str(refused) == "outside (name='../evil')"
    assert str(UnsafeZip(Refusal.TOO_LARGE)) == "too-large"


# --- the import and the extractor refuse the same hostile archives --------------------

CONTENT_TYPES = b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
DOCUMENT = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'


def crowded() -> tuple[bytes, Refusal, str]:
    members = {"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": DOCUMENT}
    members |= {f"word/media/part{i}.bin": b"" for i in range(10_000)}
    message = "it holds 10002 members; the limit is 5000."
    return zip_bytes(members), Refusal.TOO_MANY_MEMBERS, message


def boasting() -> tuple[bytes, Refusal, str]:
    package = zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": DOCUMENT})
    return (
        declare_size(package, "word/document.xml", 3 * 1024 * MIB),
        Refusal.TOO_LARGE,
        "it unpacks to more than the limit of 2048 MB.",
    )


@pytest.mark.slow
@pytest.mark.parametrize("hostile", [crowded, boasting])
def test_the_import_and_the_extractor_refuse_the_same_archive(
    app: Flask, tmp_path: Path, hostile
) -> None:
    data, reason, message = hostile()
    app.config["IMPORT_BATCH_DIR"] = tmp_path / "batches"
    manifest = ("manifest.csv", io.BytesIO(b"ref,file,language,title,kind\n"))
    with app.test_request_context():
        with pytest.raises(Invalid) as caught:
            imports.stage_batch(system_user(), manifest, ("folder.zip", io.BytesIO(data)))
    assert str(caught.value) == f"The ZIP is refused: {message}"
    assert isinstance(caught.value.__cause__, UnsafeZip)
    assert caught.value.__cause__.reason == reason
    assert not any((tmp_path / "batches").iterdir())

    result = extract_in_process(write(tmp_path, data, "package.docx"), DOCX)
    assert result.text == ""
    assert result.error is not None and result.error.startswith(ZIP_BOMB)
