"""PowerPoint 97-2003 (.ppt): the text of each slide and its notes, in presentation order.

The "PowerPoint Document" stream is a sequence of records, each with an
8-byte header (version and instance, type, length); a version of 0xF marks a
container, whose children follow its header. Text sits in TextCharsAtom
(UTF-16LE) and TextBytesAtom (8-bit: the low byte of each UTF-16 code unit)
records.

Incremental saves append new versions of records and leave the old ones in
place, so the live records are found as PowerPoint finds them: the "Current
User" stream points to the last UserEditAtom, whose chain of persist
directories maps persist ids to offsets. The live document's slide list
gives the slides in order, with the text of their placeholders; each
slide's own container holds the text of its other shapes, and its notes
follow it. Masters are left out: their placeholders read "Click to edit
Master title style".

A file whose persist structures cannot be followed is read by a walk over
the whole stream instead, which skips the masters but may repeat text that
an incremental save replaced.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from knowledge_hub.extraction.formats.ole import CompoundFileError
from knowledge_hub.extraction.formats.ole import open_compound
from knowledge_hub.extraction.formats.ole import read_stream
from knowledge_hub.extraction.formats.registry import register
from knowledge_hub.extraction.media import PPT
from knowledge_hub.extraction.media import Damaged
from knowledge_hub.extraction.media import password_message
from knowledge_hub.extraction.text import Sink

_SLIDE = 0x03EE
_NOTES = 0x03F0
_NOTES_ATOM = 0x03F1
_SLIDE_PERSIST_ATOM = 0x03F3
_MAIN_MASTER = 0x03F8
_TEXT_CHARS_ATOM = 0x0FA0
_TEXT_BYTES_ATOM = 0x0FA8
_HANDOUT = 0x0FC9
_SLIDE_LIST_WITH_TEXT = 0x0FF0
_USER_EDIT_ATOM = 0x0FF5
_PERSIST_DIRECTORY_ATOM = 0x1772
# Instances of SlideListWithText: the slides, the masters, the notes.
_SLIDES, _MASTERS, _NOTES_LIST = 0, 1, 2
# The CurrentUserAtom says whether the document is encrypted.
_ENCRYPTED_TOKEN = 0xF3D1C4DF
# Bounds against hostile files: edits followed, slides read.
_MAX_EDITS = 10_000
_MAX_SLIDES = 100_000

_TEXT_BREAKS = str.maketrans({"\r": "\n", "\x0b": "\n"})


class _Unfollowable(Exception):
    """Signal persist structures that cannot be followed."""


def _header(data: bytes, position: int) -> tuple[bool, int, int, int]:
    """Return (is a container, instance, type, length) of the record at position."""
    if position < 0 or position + 8 > len(data):
        raise _Unfollowable
    version_instance, record_type, length = struct.unpack_from("<HHI", data, position)
    return version_instance & 0x000F == 0x000F, version_instance >> 4, record_type, length


def _u32(data: bytes, position: int) -> int:
    """Return the little-endian 32-bit integer at position."""
    if position < 0 or position + 4 > len(data):
        raise _Unfollowable
    return int(struct.unpack_from("<I", data, position)[0])


def _children(data: bytes, position: int) -> Iterator[tuple[int, bool, int, int, int]]:
    """Yield (offset, is a container, instance, type, length) for a container's children."""
    container, __, __, length = _header(data, position)
    if not container:
        raise _Unfollowable
    child = position + 8
    end = min(position + 8 + length, len(data))
    while child + 8 <= end:
        is_container, instance, record_type, child_length = _header(data, child)
        yield child, is_container, instance, record_type, child_length
        child += 8 + child_length


def _atom_text(data: bytes, record_type: int, body: int, length: int) -> str:
    """Return the text of a text atom, or "" for other records."""
    if record_type == _TEXT_CHARS_ATOM:
        text = data[body : body + length].decode("utf-16-le", "replace")
    elif record_type == _TEXT_BYTES_ATOM:
        text = data[body : body + length].decode("latin-1")
    else:
        return ""
    # "*" alone is the placeholder for a slide number or a date.
    return "" if text.strip() == "*" else text.translate(_TEXT_BREAKS)


def _texts_in(data: bytes, start: int, end: int) -> Iterator[str]:
    """Yield the texts of the atoms between start and end, leaving out masters and handouts."""
    position = start
    end = min(end, len(data))
    while position + 8 <= end:
        container, instance, record_type, length = _header(data, position)
        body = position + 8
        if container:
            skip = (
                record_type in (_MAIN_MASTER, _HANDOUT)
                or (record_type == _SLIDE_LIST_WITH_TEXT and instance == _MASTERS)
                or (record_type == _NOTES and _is_notes_master(data, position))
            )
            position = body + length if skip else body
            continue
        text = _atom_text(data, record_type, body, length)
        if text:
            yield text
        position = body + length


def _is_notes_master(data: bytes, position: int) -> bool:
    """Tell whether the Notes container at position is the notes master.

    A notes page names the slide it belongs to; the master names none (0) or
    a master id, which has the high bit set.
    """
    try:
        for child, __, __, record_type, __ in _children(data, position):
            if record_type == _NOTES_ATOM:
                slide_id = _u32(data, child + 8)
                return slide_id == 0 or slide_id >= 0x80000000
    except _Unfollowable:
        pass
    return False


def _persist_directory(data: bytes, current_user: bytes) -> tuple[int, dict[int, int]]:
    """Return the live document's persist id and the map of persist ids to offsets."""
    edit = _u32(current_user, 16)
    directory: dict[int, int] = {}
    document_ref: int | None = None
    seen: set[int] = set()
    while edit and edit not in seen and len(seen) < _MAX_EDITS:
        seen.add(edit)
        __, __, record_type, __ = _header(data, edit)
        if record_type != _USER_EDIT_ATOM:
            raise _Unfollowable
        previous = _u32(data, edit + 8 + 8)
        persist_offset = _u32(data, edit + 8 + 12)
        if document_ref is None:
            document_ref = _u32(data, edit + 8 + 16)
        __, __, record_type, length = _header(data, persist_offset)
        if record_type != _PERSIST_DIRECTORY_ATOM:
            raise _Unfollowable
        position, end = persist_offset + 8, persist_offset + 8 + length
        while position + 4 <= end:
            entry = _u32(data, position)
            first, count = entry & 0xFFFFF, entry >> 20
            for index in range(count):
                # The newest edit comes first and wins.
                directory.setdefault(first + index, _u32(data, position + 4 + 4 * index))
            position += 4 + 4 * count
        edit = previous
    if document_ref is None or document_ref not in directory:
        raise _Unfollowable
    return directory[document_ref], directory


def _live_text(data: bytes, current_user: bytes, sink: Sink) -> None:
    """Write slide after slide, each with its notes, following the live persist records."""
    document, directory = _persist_directory(data, current_user)
    # Each slide: its id, its container's offset, the texts of its placeholders.
    slides: list[tuple[int, int | None, list[str]]] = []
    notes_offsets: list[int] = []
    seen: set[int | None] = set()
    for child, container, instance, record_type, __ in _children(data, document):
        if not (container and record_type == _SLIDE_LIST_WITH_TEXT):
            continue
        if instance not in (_SLIDES, _NOTES_LIST):
            continue
        for atom, __, __, atom_type, atom_length in _children(data, child):
            if atom_type == _SLIDE_PERSIST_ATOM:
                offset = directory.get(_u32(data, atom + 8))
                if offset in seen:
                    offset = None  # each record is read once, however often it is named
                seen.add(offset)
                if instance == _NOTES_LIST:
                    if offset is not None:
                        notes_offsets.append(offset)
                elif len(slides) < _MAX_SLIDES:
                    slides.append((_u32(data, atom + 8 + 12), offset, []))
            elif instance == _SLIDES and slides:
                text = _atom_text(data, atom_type, atom + 8, atom_length)
                if text:
                    slides[-1][2].append(text)
    if not slides:
        raise _Unfollowable
    notes_by_slide: dict[int, int] = {}
    for offset in notes_offsets:
        for child, __, __, record_type, __ in _children(data, offset):
            if record_type == _NOTES_ATOM:
                notes_by_slide.setdefault(_u32(data, child + 8), offset)
                break
    for slide_id, offset, texts in slides:
        parts = list(texts)
        for record_offset in (offset, notes_by_slide.get(slide_id)):
            if record_offset is None:
                continue
            __, __, __, length = _header(data, record_offset)
            parts.extend(_texts_in(data, record_offset + 8, record_offset + 8 + length))
        for text in parts:
            sink.write(text)
            sink.write("\n")
        sink.write("\n")


def _all_text(data: bytes, sink: Sink) -> None:
    """Write the text atoms of the whole stream, leaving out masters and handouts."""
    for text in _texts_in(data, 0, len(data)):
        sink.write(text)
        sink.write("\n\n")


def _is_encrypted(current_user: bytes) -> bool:
    """Tell from the "Current User" stream whether the presentation is encrypted."""
    if len(current_user) < 16:
        return False
    return struct.unpack_from("<I", current_user, 12)[0] == _ENCRYPTED_TOKEN


@register(PPT)
def _extract_ppt(path: Path, sink: Sink) -> str | None:
    """Extract a PowerPoint 97-2003 presentation."""
    try:
        with open_compound(path) as ole:
            if not ole.exists("PowerPoint Document"):
                raise Damaged(
                    "The file is not a PowerPoint presentation: it has no PowerPoint Document "
                    "stream."
                )
            current_user = read_stream(ole, "Current User") if ole.exists("Current User") else b""
            if _is_encrypted(current_user):
                raise Damaged(password_message("presentation"))
            data = read_stream(ole, "PowerPoint Document")
    except CompoundFileError as exc:
        raise Damaged(f"The presentation is damaged: {exc}.") from None
    try:
        _live_text(data, current_user, sink)
    except _Unfollowable:
        # Start again over the whole stream, dropping what the attempt wrote.
        sink.clear()
        _all_text(data, sink)
    return None
