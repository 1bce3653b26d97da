"""A loopback SMTP server that keeps what it is sent (no auth, no TLS): the demo's mailbox,
whose volunteers are reached by email so that their hubs may ask them, and the test suite's
mail server. It speaks just enough SMTP for `hub.mail` (and Python's smtplib) to deliver."""

from __future__ import annotations

import asyncio
from email import message_from_bytes
from email.message import Message


class MailSink:
    """Serves on 127.0.0.1 at a free port (`port`, once started); `messages` as received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 commonhub mail sink\r\n")
        while line := (await reader.readline()).strip():
            verb = line.split(b" ", 1)[0].upper()
            if verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = b""
                while (chunk := await reader.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk  # dot-stuffing
                self.messages.append(message_from_bytes(data))
                writer.write(b"250 kept\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        await writer.drain()
        writer.close()
