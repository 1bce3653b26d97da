"""Strip metadata from uploaded images: camera EXIF (GPS position, serial numbers, times),
XMP, IPTC, comments and text chunks, which can say where a photo was taken.

Works on the container structure only (segments and chunks are copied or dropped whole; no
pixel is decoded or re-encoded), so the picture is unchanged. Kept: what decoding needs
(JPEG's JFIF, Adobe and ICC colour segments; PNG's image and colour chunks; WebP's image
chunks). GIF carries no EXIF and is kept as it is. A file whose structure cannot be walked
is refused rather than kept with whatever it hides.
"""

from __future__ import annotations

import struct

from federation.errors import ValidationError

# JPEG: APP1 holds EXIF and XMP, APP13 IPTC, COM comments; APP2 is kept only for ICC colour
# profiles and APP14 for Adobe's colour transform, which decoders need.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_PNG_DROPPED = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}
_WEBP_DROPPED = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """`data` without its metadata; ValidationError if its structure is damaged."""
    try:
        if content_type == "image/jpeg":
            return _jpeg(data)
        if content_type == "image/png":
            return _png(data)
        if content_type == "image/webp":
            return _webp(data)
    except (IndexError, struct.error) as exc:
        raise _damaged(content_type) from exc
    return data


def _damaged(content_type: str) -> ValidationError:
    kind = content_type.split("/")[1].upper()
    return ValidationError(f"file: the {kind} image is damaged or cut short")


def _keep_jpeg_segment(marker: int, segment: bytes) -> bool:
    if marker == 0xE2:
        return segment[4:16] == b"ICC_PROFILE\x00"
    if marker == 0xEE:
        return segment[4:9] == b"Adobe"
    return marker == 0xE0 or not (0xE1 <= marker <= 0xEF or marker == 0xFE)


def _jpeg(data: bytes) -> bytes:
    out, i = [data[:2]], 2
    while True:
        if data[i] != 0xFF:
            raise _damaged("image/jpeg")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _JPEG_STANDALONE:
            out.append(data[i:i + 2])
            i += 2
            continue
        if marker == 0xD9:  # end of image without a scan
            out.append(data[i:i + 2])
            return b"".join(out)
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise _damaged("image/jpeg")
        if marker == 0xDA:  # start of scan: the compressed picture, then the end marker
            last = data.rfind(b"\xff\xd9", end)
            out.append(data[i:] if last < 0 else data[i:last + 2])  # nothing after the end
            return b"".join(out)
        if _keep_jpeg_segment(marker, data[i:end]):
            out.append(data[i:end])
        i = end


def _png(data: bytes) -> bytes:
    out, i = [data[:8]], 8
    while True:
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind, end = data[i + 4:i + 8], i + 12 + length
        if end > len(data):
            raise _damaged("image/png")
        if kind not in _PNG_DROPPED:
            out.append(data[i:end])
        if kind == b"IEND":
            return b"".join(out)
        i = end


def _webp(data: bytes) -> bytes:
    chunks, i = [], 12
    while i < len(data):
        kind = data[i:i + 4]
        size = struct.unpack("<I", data[i + 4:i + 8])[0]
        end = i + 8 + size + (size & 1)  # chunks are padded to an even length
        if end > len(data) + (size & 1):
            raise _damaged("image/webp")
        chunk = data[i:end]
        if kind == b"VP8X":
            flags = chunk[8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in _WEBP_DROPPED:
            chunks.append(chunk)
        i = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
