"""A real Chromium driven by Playwright, for tests that need a browser.

Debian's `chromium` (installed by `scripts/browser-deps.sh`, which `make test` runs) is used,
never Playwright's own browser download, which cannot be fetched here. Each test gets a
fresh profile folder (Playwright takes it as `user_data_dir` and passes `--user-data-dir`
itself), and the flags that keep Chromium from calling out to Google's services: on a
closed network those connections are refused and slow everything down.

Without Chromium the browser tests are skipped on a developer's machine, with the command
that installs it; under CI (`CI` set) a missing Chromium is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
MISSING = (f"{CHROMIUM} is missing: run `bash scripts/browser-deps.sh` (or, as root, "
           "`apt-get install -y chromium`)")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{MISSING}; under CI the browser tests must run", pytrace=False)
    pytest.skip(MISSING)


@pytest.fixture
def artifacts() -> Path:
    """tests/artifacts/, where screenshots are kept (git ignores it)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[Any]:
    """A Playwright browser context of Debian's Chromium, with a fresh profile."""
    _require_chromium()
    from playwright.async_api import async_playwright

    profile = tmp_path / "chromium-profile"
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1000, "height": 800}, locale="en-GB")
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            await context.close()
    shutil.rmtree(profile, ignore_errors=True)
