"""The banner of the console's event form: a new upload, the image kept, or none.

The upload is kept as soon as it passes its checks (`hub.events.media.save_image`), and a
hidden `banner` field carries it through a refused form, so it need not be chosen again.
A changed description of a kept image keeps the same file again under the new words.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from federation.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from hub.events.media import media_path, save_image
from hub.events.model import FieldError
from hub.runtime import Hub
from hub.store import media as media_store
from hub.store.media import Media
from hub.web.console.event_form import EventForm


def _image_error(exc: ValidationError) -> FieldError:
    if isinstance(exc, FieldError):
        return exc
    if exc.message.startswith("alt"):
        return FieldError("banner_alt", exc.message.removeprefix("alt: "))
    return FieldError("banner_file", exc.message.removeprefix("file: "))


async def _kept_image(hub: Hub, media_uuid: str, alt: str) -> Media:
    """The image already chosen; with a new description it is kept again under that."""
    media = await media_store.get_media(hub.db, media_uuid)
    if media is None:
        raise FieldError("banner_file", "the image chosen earlier is gone: choose it again")
    if alt.strip() == media.alt_text:
        return media
    try:
        data = await asyncio.to_thread(media_path(hub, media).read_bytes)
    except OSError:
        raise FieldError("banner_file", "the image chosen earlier cannot be read: choose it "
                                        "again") from None
    return await save_image(hub, data, alt)


async def attach_banner(hub: Hub, form: Any, parsed: EventForm) -> None:
    """Put the banner in the form's input: a new upload, the image kept, or none."""
    upload, alt = form.get("banner_file"), parsed.values.get("banner_alt", "")
    try:
        if isinstance(upload, web.FileField) and upload.filename:
            media = await save_image(hub, await asyncio.to_thread(upload.file.read), alt)
        elif parsed.text("banner_remove") or not parsed.text("banner"):
            parsed.values["banner"] = ""
            return
        else:
            media = await _kept_image(hub, parsed.values["banner"].strip(), alt)
    except (PayloadTooLarge, UnsupportedMediaType, ValidationError) as exc:
        parsed.errors.append(_image_error(exc))
        return
    parsed.values["banner"] = parsed.data["banner"] = media.uuid


async def banner_preview(hub: Hub, media_uuid: str | None) -> dict[str, str] | None:
    media = await media_store.get_media(hub.db, media_uuid) if media_uuid else None
    return {"url": hub.urls.media(media.uuid), "alt": media.alt_text} if media else None
