"""A real SMTP server for the tests: aiosmtpd on a free port of 127.0.0.1, keeping
every message it accepts, parsed."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage
from typing import Any
from typing import Self

from aiosmtpd.controller import Controller

from tests.server import free_port


class Mailbox:
    """What the server received; it can be stopped and started again on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def start(self) -> Self:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self) -> dict[str, Any]:
        """The settings that send the hub's mail here."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_DEFAULT_SENDER": "hub@hub.test",
            "MAIL_RETRY_SECONDS": 0,
            # Flask-Mail keeps quiet when TESTING is set; this server is where it talks.
            "MAIL_SUPPRESS_SEND": False,
        }

    def attach(self, app: Any) -> None:
        """Point an application's mail here (Flask-Mail reads its settings at init_app)."""
        from knowledge_hub.extensions import mail

        app.config.update(self.config())
        mail.init_app(app)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def links_in(message: EmailMessage) -> list[str]:
    import re

    return re.findall(r"https?://\S+", text_of(message))
