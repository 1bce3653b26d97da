"""Sending email through the hub's SMTP server (off unless `smtp_host` is set).

The standard library's smtplib does the protocol; it runs in a thread so the event loop
never waits on a mail server.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from hub.settings import Settings


class MailError(OSError):
    """The mail server refused or could not be reached; worth trying again later."""


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build_message(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    sender = settings.smtp_from or f"noreply@{settings.domain.split(':')[0]}"
    message["From"] = formataddr((settings.display_name or settings.name, sender))
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.domain.split(":")[0])
    message.set_content(text)
    return message


async def send_mail(settings: Settings, to: str, subject: str, text: str) -> None:
    """Send one plain-text email; MailError if it could not be handed to the server."""
    if not mail_enabled(settings):
        raise MailError("email is not configured (smtp_host is empty)")
    message = build_message(settings, to, subject, text)
    await asyncio.to_thread(_send, settings, message)


def _send(settings: Settings, message: EmailMessage) -> None:
    security = settings.smtp_security
    try:
        if security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=30,
                context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                client.login(settings.smtp_username, settings.smtp_password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"could not send mail via {settings.smtp_host}: {exc}") from exc
