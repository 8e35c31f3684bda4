"""A local SMTP server (aiosmtpd) that keeps every message it receives, for email tests.

    with SmtpServer() as smtp:
        ...  # the code under test sends through smtp.host, smtp.port (no TLS, no AUTH)
        [message] = smtp.wait_for(1)
        assert message.message["Subject"] == "..."

It listens on 127.0.0.1 on a free port; ``messages`` holds each one with its envelope (MAIL
FROM, RCPT TO) and the message parsed with the modern email policy (``EmailMessage``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedMessage:
    """One message as the server received it."""

    mail_from: str  # the envelope sender (MAIL FROM)
    rcpt_tos: tuple[str, ...]  # the envelope recipients (RCPT TO), which may differ from To:
    message: EmailMessage
    raw: bytes

    @property
    def text(self) -> str:
        """The plain-text body (the text/plain part of a multipart message), lines ending in
        ``\\n`` (SMTP carries ``\\r\\n``)."""
        text = self._body("plain")
        if text is None:
            raise AssertionError(f"the message has no text/plain part: {self.message.get_content_type()}")
        return text

    @property
    def html(self) -> str | None:
        """The text/html body, lines ending in ``\\n``; None when there is none."""
        return self._body("html")

    def _body(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None:
            return None
        return str(part.get_content()).replace("\r\n", "\n")


class _Collector:
    """aiosmtpd's handler: keeps each message and wakes whoever waits."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMessage] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=message,
            raw=raw,
        )
        with self.changed:
            self.messages.append(received)
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class _FreePortController(Controller):
    """aiosmtpd's threaded controller bound to port 0: it reads the port the system chose
    before it makes its first connection to the server."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class SmtpServer:
    """A local SMTP server; see the module's docstring."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self._collector = _Collector()
        self._controller: _FreePortController | None = None
        self.port = 0

    def start(self) -> Self:
        if self._controller is not None:
            raise RuntimeError("the SMTP server is already running")
        controller = _FreePortController(self._collector, hostname=self.host, port=0)
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._collector.changed:
            return list(self._collector.messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """The messages once there are at least ``count``; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._collector.changed:
            while len(self._collector.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self._collector.messages)} emails after {timeout} s, expected {count}"
                    )
                self._collector.changed.wait(left)
            return list(self._collector.messages)
