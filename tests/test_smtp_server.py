"""The local SMTP server (tests/smtp_server.py) receives what smtplib sends, as sent."""

from __future__ import annotations

import email.policy
import smtplib
import socket
from email.message import EmailMessage

import pytest

from smtp_server import SmtpServer


def reminder() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Dosewise <reminders@dosewise.example>"
    message["To"] = "Ana Pérez <ana@example.org>"
    message["Subject"] = "Evening dose: baclofen 10 mg – 1 tablet"
    message.set_content("Time for your evening dose.\nFrom tomorrow: 1 whole 10 mg tablet.\n")
    message.add_alternative("<p>Time for your <b>evening</b> dose.</p>", subtype="html")
    return message


def test_a_message_sent_with_smtplib_is_read_back(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        refused = client.sendmail(
            "bounces@dosewise.example",
            ["ana@example.org", "carer@example.org"],
            reminder().as_bytes(policy=email.policy.SMTP),
        )
    assert refused == {}
    [received] = smtp_server.wait_for(1)
    assert received.mail_from == "bounces@dosewise.example"
    assert received.rcpt_tos == ("ana@example.org", "carer@example.org")  # the envelope, not To:
    assert received.message["Subject"] == "Evening dose: baclofen 10 mg – 1 tablet"
    assert received.message["To"].addresses[0].display_name == "Ana Pérez"
    assert received.text == "Time for your evening dose.\nFrom tomorrow: 1 whole 10 mg tablet.\n"
    assert received.html == "<p>Time for your <b>evening</b> dose.</p>\n"


def test_send_message_turns_a_line_starting_from_into_from(smtp_server: SmtpServer) -> None:
    """A trap for the sender: smtplib's send_message writes a line that starts "From " as
    ">From " (mbox quoting), and a step-change heads-up starts "From tomorrow: ...". Send
    ``message.as_bytes(policy=email.policy.SMTP)`` with ``sendmail`` instead (test above)."""
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(reminder())
    [received] = smtp_server.wait_for(1)
    assert received.text == "Time for your evening dose.\n>From tomorrow: 1 whole 10 mg tablet.\n"
    assert received.mail_from == "reminders@dosewise.example"  # taken from the From: header


def test_several_messages_in_order(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        for number in range(3):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = (
                "a@dosewise.example",
                "b@example.org",
                f"n{number}",
            )
            message.set_content("body")
            client.send_message(message)
    assert [m.message["Subject"] for m in smtp_server.wait_for(3)] == ["n0", "n1", "n2"]


def test_wait_for_fails_when_nothing_arrives(smtp_server: SmtpServer) -> None:
    with pytest.raises(AssertionError, match=r"0 emails after 0\.1 s, expected 1"):
        smtp_server.wait_for(1, timeout=0.1)


def test_two_servers_listen_on_their_own_ports_and_stop() -> None:
    with SmtpServer() as first, SmtpServer() as second:
        assert first.port != second.port
        assert 0 not in (first.port, second.port)
        port = first.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
