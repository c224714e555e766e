"""Sentences for people, written where Flask is not at hand (the pure engines, the
metadata rules), and translated where they are shown.

`N_("… %(name)s …", name=...)` marks the sentence for the catalogue and keeps its
message id and values; as a string it is the English sentence, so logs, the command
line and stored comments read as before. `translate` renders it in the reader's language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext


class Message(str):
    """An English sentence that remembers its message id and values."""

    msgid: str
    values: dict[str, Any]

    def __new__(cls, msgid: str, **values: Any) -> Message:
        english = msgid % {k: _english(v) for k, v in values.items()} if values else msgid
        message = super().__new__(cls, english)
        message.msgid = msgid
        message.values = values
        return message


def _english(value: Any) -> Any:
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return value


def N_(msgid: str, **values: Any) -> Message:  # noqa: N802  (the gettext convention)
    """Mark a sentence for translation without translating it now. A tuple value is a
    list of words (themselves `N_` messages or plain text) joined with commas."""
    return Message(msgid, **values)


def translate(message: object) -> str:
    """A sentence marked with `N_`, in the reader's language; any other text unchanged."""
    if not isinstance(message, Message):
        return "" if message is None else str(message)
    values = {key: _translated_value(value) for key, value in message.values.items()}
    return gettext(message.msgid, **values)


def _translated_value(value: object) -> object:
    if isinstance(value, tuple):
        return ", ".join(translate(v) for v in value)
    return translate(value) if isinstance(value, Message) else value
