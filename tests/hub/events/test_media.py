"""Banner uploads: magic bytes decide, sizes are read from headers, limits hold, and the hub
serves the file with its recorded type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

from federation.errors import UnsupportedMediaType
from hub.events.media import MAX_IMAGE_BYTES, image_size, sniff_image
from tests.hub.events import images
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]


@pytest.mark.parametrize(("data", "kind", "size"), [
    (images.png(3, 2), "image/png", (3, 2)),
    (images.gif(4, 5), "image/gif", (4, 5)),
    (images.jpeg(640, 480), "image/jpeg", (640, 480)),
    (images.webp(800, 418), "image/webp", (800, 418)),
])
def test_magic_bytes_and_sizes(data: bytes, kind: str, size: tuple[int, int]) -> None:
    assert sniff_image(data) == kind
    assert image_size(data, kind) == size


@pytest.mark.parametrize("data", [
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"<!doctype html><html>", b"%PDF-1.7", b"GIF8", b"RIFF\x00\x00\x00\x00WAVE", b"",
])
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedMediaType):
        sniff_image(data)


def test_a_truncated_header_gives_no_size() -> None:
    assert image_size(images.jpeg()[:12], "image/jpeg") is None
    assert image_size(b"\x89PNG\r\n\x1a\n", "image/png") is None


async def upload(hub: RunningHub, data: bytes, *, alt: str | None = "A red scarf",
                 filename: str = "scarf.png", content_type: str = "image/png",
                 ) -> tuple[int, dict]:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    if alt is not None:
        form.add_field("alt", alt)
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with aiohttp.ClientSession() as session, session.post(
            f"{hub.base_url}/api/v1/media", data=form, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def _files(hub: RunningHub) -> list[Path]:
    folder = hub.settings.home / "media"
    return sorted(folder.iterdir()) if folder.is_dir() else []


async def _media_rows(hub: RunningHub) -> int:
    return int(await hub.hub.db.fetchval("SELECT count(*) FROM media"))


async def test_upload_then_serve_with_the_recorded_type(hubs: HubFactory) -> None:
    hub = await hubs("north")
    # The declared type and name are ignored: the bytes say JPEG.
    status, body = await upload(hub, images.jpeg(640, 480), filename="x.png",
                                content_type="image/png")
    assert status == 201, body
    assert body["content_type"] == "image/jpeg" and (body["width"], body["height"]) == (640, 480)
    assert body["alt"] == "A red scarf" and body["url"].endswith(f"/media/{body['id']}")
    [stored] = _files(hub)
    assert stored.suffix == ".jpg" and len(stored.stem) == 32  # random, not the upload's name
    async with aiohttp.ClientSession() as session, session.get(body["url"]) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert await response.read() == images.jpeg(640, 480)
    async with aiohttp.ClientSession() as session, session.get(
            f"{hub.base_url}/media/00000000-0000-4000-8000-000000000000") as response:
        assert response.status == 404


async def test_refused_uploads_store_nothing(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, body = await upload(hub, b"<svg onload='alert(1)'/>", filename="a.svg",
                                content_type="image/svg+xml")
    assert (status, body["field"]) == (415, "file")
    status, body = await upload(hub, images.png() + b"\x00" * MAX_IMAGE_BYTES)
    assert (status, body["field"]) == (413, "file")
    status, body = await upload(hub, images.png(), alt="x" * 1501)
    assert (status, body["field"]) == (400, "alt")
    status, body = await upload(hub, b"")
    assert (status, body["field"]) == (400, "file")
    assert _files(hub) == [] and await _media_rows(hub) == 0


async def test_upload_needs_multipart_and_a_token(hubs: HubFactory) -> None:
    hub = await hubs("north")
    status, _ = await hub.api("POST", "/api/v1/media", {"file": "x"})
    assert status == 415
    async with aiohttp.ClientSession() as session, session.post(
            f"{hub.base_url}/api/v1/media", data=b"x") as response:
        assert response.status == 401
