"""`commonhub demo --hubs 3` as a person runs it: a subprocess, its URLs, then Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"http://127\.0\.0\.1:\d+/[^\s)]*")


async def test_the_demo_starts_hubs_that_answer_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "demo", "--hubs", "3", "--dir", str(tmp_path / "d"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env)
    lines: list[str] = []
    try:
        async with asyncio.timeout(180):
            while not lines or lines[-1] != "Press Ctrl-C to stop.":
                line = await process.stdout.readline()
                assert line, "the demo ended early: " + (await process.stderr.read()).decode()
                lines.append(line.decode().rstrip("\n"))
        text = "\n".join(lines)
        assert "every hub follows the hubs within its reach" in text
        assert "the offer was accepted" in text
        urls = URL.findall(text)
        assert len({u.split("/")[2] for u in urls}) == 3
        async with aiohttp.ClientSession() as session:
            for url in urls:
                async with session.get(url, allow_redirects=False) as response:
                    assert response.status in (200, 303), url  # the console asks to log in
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            out, _ = await process.communicate()
    assert process.returncode == 0 and b"demo stopped" in out
