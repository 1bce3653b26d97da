"""Banner uploads: checked by their first bytes (never the name or the declared type),
size-limited, stored under HOME/media/ with a random name, served at /media/{uuid}.

Only JPEG, PNG, WebP and GIF are kept, without their metadata (EXIF, XMP, comments: see
`hub.events.image_metadata`); the width and height are read from the header when it is well
formed (no image is decoded).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import struct
import uuid
from pathlib import Path

from federation.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from hub.events.image_metadata import strip_metadata
from hub.runtime import Hub
from hub.store import media as media_store
from hub.store.media import Media

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT_CHARS = 1500
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
              "image/gif": "gif"}
# JPEG start-of-frame markers carry the size; C4, C8 and CC share the range but are not frames.
_JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def sniff_image(data: bytes) -> str:
    """The content type the file's magic bytes say; UnsupportedMediaType for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedMediaType("the file is not a JPEG, PNG, WebP or GIF image")


def image_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    """(width, height) from the image header, or None if the header is not readable."""
    try:
        if content_type == "image/png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if content_type == "image/gif":
            return struct.unpack("<HH", data[6:10])
        if content_type == "image/webp":
            return _webp_size(data)
        if content_type == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset = 2
    while offset + 9 < len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:        # fill byte
            offset += 1
            continue
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[offset + 5:offset + 9])
            return width, height
        if 0xD0 <= marker <= 0xD9 or marker == 0x01:   # markers without a length
            offset += 2
            continue
        offset += 2 + struct.unpack(">H", data[offset + 2:offset + 4])[0]
    return None


def check_alt(alt: str) -> str:
    alt = alt.strip()
    if len(alt) > MAX_ALT_CHARS:
        raise ValidationError(f"alt: at most {MAX_ALT_CHARS} characters ({len(alt)} given)")
    return alt


def media_folder(hub: Hub) -> Path:
    return hub.settings.home / "media"


def media_path(hub: Hub, media: Media) -> Path:
    return media_folder(hub) / media.file_name


def _write_file(folder: Path, name: str, data: bytes) -> None:
    """Write to a temporary name, flush to disk, then rename: no half-written image served."""
    folder.mkdir(mode=0o750, exist_ok=True)
    temporary = folder / f".{name}.part"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(folder / name)


async def save_image(hub: Hub, data: bytes, alt: str = "") -> Media:
    """Check and keep an uploaded image; nothing is stored if a check fails."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge(f"an image is at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise ValidationError("file: the upload is empty")
    content_type = sniff_image(data)
    alt = check_alt(alt)
    data = strip_metadata(data, content_type)  # EXIF can say where a photo was taken
    size = image_size(data, content_type)
    file_name = f"{secrets.token_hex(16)}.{EXTENSIONS[content_type]}"
    await asyncio.to_thread(_write_file, media_folder(hub), file_name, data)
    try:
        return await media_store.insert_media(
            hub.db, media_uuid=str(uuid.uuid4()), file_name=file_name,
            content_type=content_type, size=len(data), width=size[0] if size else None,
            height=size[1] if size else None, alt_text=alt,
            sha256=hashlib.sha256(data).hexdigest())
    except BaseException:
        await asyncio.to_thread((media_folder(hub) / file_name).unlink, True)
        raise
