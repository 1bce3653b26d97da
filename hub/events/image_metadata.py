"""Strip metadata from uploaded images: camera EXIF (GPS position, serial numbers, times),
XMP, IPTC, comments and text chunks, which can say where a photo was taken.

Works on the container structure only (segments and chunks are copied or dropped whole; no
pixel is decoded or re-encoded), so the picture is unchanged. Kept: what decoding needs
(JPEG's JFIF, Adobe and ICC colour segments; PNG's image and colour chunks; WebP's image
chunks; GIF's images, colour tables, frame timing, looping and ICC colour profile; GIF's
comments and other application blocks, XMP among them, go). A file whose structure cannot be
walked is refused rather than kept with whatever it hides.
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
# GIF application extensions that animation and colour need; any other goes (XMP among them).
_GIF_APPLICATIONS_KEPT = {b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"}
_GIF_COMMENT, _GIF_APPLICATION = 0xFE, 0xFF


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """`data` without its metadata; ValidationError if its structure is damaged."""
    try:
        if content_type == "image/jpeg":
            return _jpeg(data)
        if content_type == "image/png":
            return _png(data)
        if content_type == "image/webp":
            return _webp(data)
        if content_type == "image/gif":
            return _gif(data)
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


def _gif_colour_table(packed: int) -> int:
    """The size of the colour table a descriptor's packed byte announces (0 if none)."""
    return 3 << ((packed & 0x07) + 1) if packed & 0x80 else 0


def _gif_sub_blocks(data: bytes, i: int) -> int:
    """Where the sub-blocks starting at `i` end (after their empty terminator)."""
    while True:
        size = data[i]  # IndexError past the end: cut short
        i += 1 + size
        if size == 0:
            return i


def _gif_block(data: bytes, i: int) -> tuple[int, bool]:
    """Where the block at `i` (an image or an extension) ends, and whether it is kept."""
    if data[i] == 0x2C:  # an image: descriptor, local colours, LZW code size, data
        return _gif_sub_blocks(data, i + 11 + _gif_colour_table(data[i + 9])), True
    if data[i] != 0x21:
        raise _damaged("image/gif")
    label, end = data[i + 1], _gif_sub_blocks(data, i + 2)
    if label == _GIF_COMMENT:
        return end, False
    if label == _GIF_APPLICATION:
        return end, data[i + 3:i + 14] in _GIF_APPLICATIONS_KEPT
    return end, True  # graphic control (frame timing), plain text


def _gif(data: bytes) -> bytes:
    i = 13 + _gif_colour_table(data[10])  # header, logical screen, global colours
    out = [data[:i]]
    while data[i] != 0x3B:  # the trailer: nothing after it is kept
        end, kept = _gif_block(data, i)
        if kept:
            out.append(data[i:end])
        i = end
    out.append(b"\x3b")
    return b"".join(out)
