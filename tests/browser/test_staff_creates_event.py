"""A staff member, in a real browser, logs in, creates an event with a banner image, and
the public page shows it. The page is kept as a screenshot in tests/artifacts/."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

from hub.store import events as event_store
from hub.store import staff as staff_store
from tests.support.hubs import RunningHub

PASSWORD = "correct horse battery staple"
BANNER_SIZE = (640, 240)


def banner_png(width: int, height: int) -> bytes:
    """A valid PNG, a sunset-coloured gradient with stripes, built with zlib and struct."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    rows = []
    for y in range(height):
        row = bytearray(b"\x00")  # filter: none
        for x in range(width):
            stripe = 40 if (x // 40 + y // 40) % 2 else 0
            row += bytes((240 - y * 100 // height, 120 + x * 100 // width - stripe // 2,
                          60 + stripe))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


async def test_staff_creates_an_event_with_a_banner_and_the_public_page_shows_it(
        hubs: Any, chromium: Any, artifacts: Path) -> None:
    # Given a hub with a coordinator
    running: RunningHub = await hubs("redbridge")
    await staff_store.add_staff(running.hub.db, "alice", PASSWORD, "coordinator")
    page = await chromium.new_page()

    # When she logs in through the login page...
    await page.goto(f"{running.base_url}/console/login")
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"{running.base_url}/console/")

    # ...opens "New event" from the console's Events page and fills in the form
    await page.get_by_role("link", name="Events", exact=True).click()
    await page.get_by_role("link", name="New event").click()
    await field(page, "Title").fill("Repair café")
    await field(page, "Description").fill(
        "Bring **anything** broken: toasters, bikes, jumpers.\n\nTea and cake provided.")
    await field(page, "Starts").fill("2031-03-08T14:00")
    await field(page, "Ends").fill("2031-03-08T16:30")
    await field(page, "Timezone").select_option("Europe/London")
    await field(page, "Venue name").fill("Redbridge Central Library")
    await field(page, "Street address").fill("112b Clements Road")
    await field(page, "Town or city").fill("Ilford")
    await field(page, "Places").fill("15")
    await field(page, "Hashtags").fill("repaircafe")
    await field(page, "Image").set_input_files(
        {"name": "banner.png", "mimeType": "image/png", "buffer": banner_png(*BANNER_SIZE)})
    await field(page, "Image description").fill("Warm orange stripes")
    await artifacts_shot(page, artifacts / "staff-new-event-form.png")
    await page.get_by_role("button", name="Publish").click()

    # Then the console says it is published
    await page.wait_for_url(re.compile(r"/console/events/[0-9a-f-]{36}\?done=created$"))
    assert "Published" in await page.get_by_role("status").inner_text()
    event_uuid = page.url.split("/console/events/")[1].split("?")[0]
    event = await event_store.get_event(running.hub.db, event_uuid)
    assert event is not None and event.banner_id is not None

    # And the public page shows its title, its time and its banner, which loads
    await page.goto(running.hub.urls.event(event_uuid))
    assert await page.get_by_role("heading", level=1).inner_text() == "Repair café"
    start = page.locator("dd time").first
    assert await start.get_attribute("datetime") == "2031-03-08T14:00:00+00:00"
    assert await start.inner_text() == "Sat 8 Mar 2031, 14:00"
    banner = page.get_by_role("img", name="Warm orange stripes")
    await banner.wait_for()
    src = await banner.get_attribute("src")
    assert src is not None and src.startswith(f"{running.base_url}/media/")
    loaded = await banner.evaluate("img => img.complete && img.naturalWidth")
    assert loaded == BANNER_SIZE[0], "the banner image did not load"
    assert "Redbridge Central Library" in await page.locator("address").inner_text()
    await artifacts_shot(page, artifacts / "staff-creates-event.png")
    assert (artifacts / "staff-creates-event.png").stat().st_size > 10_000


def field(page: Any, label: str) -> Any:
    """The input labelled `label`, or `label (optional)`, and no other."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


async def artifacts_shot(page: Any, path: Path) -> None:
    await page.screenshot(path=str(path), full_page=True)
