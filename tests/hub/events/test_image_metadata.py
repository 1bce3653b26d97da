"""Uploaded banners lose their EXIF, XMP, comments and text chunks; the picture stays."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from federation.errors import ValidationError
from hub.events.image_metadata import strip_metadata
from hub.events.media import image_size, sniff_image
from tests.hub.events import images
from tests.hub.events.test_media import upload
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
SECRET = b"GPS 51.5072N 0.1276W; camera serial 8675309"


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_metadata() -> bytes:
    plain = images.jpeg(640, 480)
    exif = _jpeg_segment(0xE1, b"Exif\x00\x00" + SECRET)
    xmp = _jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>" + SECRET)
    comment = _jpeg_segment(0xFE, SECRET)
    iptc = _jpeg_segment(0xED, b"Photoshop 3.0\x00" + SECRET)
    icc = _jpeg_segment(0xE2, b"ICC_PROFILE\x00\x01\x01colours")
    # After the JFIF segment, as cameras write them; and bytes hidden after the end marker.
    return plain[:20] + exif + xmp + comment + iptc + icc + plain[20:] + SECRET


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_metadata() -> bytes:
    plain = images.png(3, 2)
    extra = (_png_chunk(b"eXIf", b"MM\x00*" + SECRET) + _png_chunk(b"tEXt", b"Comment\x00" + SECRET)
             + _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + SECRET)
             + _png_chunk(b"gAMA", struct.pack(">I", 45455)))
    return plain[:33] + extra + plain[33:]  # after IHDR


def webp_with_metadata() -> bytes:
    plain = images.webp(800, 418)
    flags = 0x08 | 0x04  # EXIF and XMP present
    body = plain[12:20] + bytes([flags]) + plain[21:]
    exif = b"EXIF" + struct.pack("<I", len(SECRET)) + SECRET + b"\x00" * (len(SECRET) & 1)
    xmp = b"XMP " + struct.pack("<I", len(SECRET)) + SECRET + b"\x00" * (len(SECRET) & 1)
    riff = b"WEBP" + body + exif + xmp
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def _gif_extension(label: int, *blocks: bytes) -> bytes:
    return bytes([0x21, label]) + b"".join(bytes([len(b)]) + b for b in blocks) + b"\x00"


LOOP = _gif_extension(0xFF, b"NETSCAPE2.0", b"\x01\x00\x00")  # loop for ever
TIMING = _gif_extension(0xF9, b"\x00\x0a\x00\x00")  # 100 ms a frame


def gif_with_metadata() -> bytes:
    plain = images.gif(4, 5)
    comment = _gif_extension(0xFE, SECRET)
    xmp = _gif_extension(0xFF, b"XMP DataXMP", b"<x:xmpmeta>", SECRET)
    # After the logical screen (this one has no global colour table), and after the trailer.
    return plain[:13] + comment + LOOP + xmp + TIMING + plain[13:] + SECRET


CASES = [("image/jpeg", jpeg_with_metadata, (640, 480)),
         ("image/png", png_with_metadata, (3, 2)),
         ("image/webp", webp_with_metadata, (800, 418)),
         ("image/gif", gif_with_metadata, (4, 5))]


@pytest.mark.parametrize(("kind", "make", "size"), CASES)
def test_metadata_goes_and_the_picture_stays(kind: str, make: Callable[[], bytes],
                                             size: tuple[int, int]) -> None:
    stripped = strip_metadata(make(), kind)
    assert SECRET not in stripped and b"Exif" not in stripped and b"XMP" not in stripped
    assert sniff_image(stripped) == kind and image_size(stripped, kind) == size


def test_what_decoders_need_is_kept() -> None:
    jpeg = strip_metadata(jpeg_with_metadata(), "image/jpeg")
    assert b"JFIF" in jpeg and b"ICC_PROFILE" in jpeg and jpeg.endswith(b"\xff\xd9")
    assert b"gAMA" in strip_metadata(png_with_metadata(), "image/png")
    webp = strip_metadata(webp_with_metadata(), "image/webp")
    assert webp[20] & 0x0C == 0  # the VP8X flags no longer announce EXIF or XMP
    assert struct.unpack("<I", webp[4:8])[0] == len(webp) - 8
    gif = strip_metadata(gif_with_metadata(), "image/gif")
    assert gif == images.gif(4, 5)[:13] + LOOP + TIMING + images.gif(4, 5)[13:]
    for kind, plain in (("image/jpeg", images.jpeg()), ("image/png", images.png()),
                        ("image/webp", images.webp()), ("image/gif", images.gif())):
        assert strip_metadata(plain, kind) == plain  # nothing to take from a clean file


@pytest.mark.parametrize(("kind", "data"), [
    ("image/jpeg", images.jpeg()[:30]), ("image/png", images.png()[:40]),
    ("image/webp", images.webp()[:20]), ("image/jpeg", b"\xff\xd8\xff\xe1\x00\x01"),
    ("image/gif", images.gif()[:-1]), ("image/gif", images.gif()[:20]),
    ("image/gif", images.gif()[:13] + b"\x00" + images.gif()[13:]),
])
def test_a_file_cut_short_is_refused(kind: str, data: bytes) -> None:
    with pytest.raises(ValidationError, match="damaged"):
        strip_metadata(data, kind)


@pytest.mark.parametrize(("kind", "make", "size"), CASES)
async def test_an_uploaded_banner_is_served_without_its_metadata(
        hubs: HubFactory, kind: str, make: Callable[[], bytes], size: tuple[int, int]) -> None:
    hub = await hubs()
    status, media = await upload(hub, make(), content_type=kind)
    assert status == 201, media
    async with aiohttp.ClientSession() as session, session.get(media["url"]) as response:
        served = await response.read()
    assert SECRET not in served and image_size(served, kind) == size
    assert all(SECRET not in path.read_bytes()
               for path in (hub.settings.home / "media").iterdir())
