"""Creating a hub's home: settings file, database, key pairs. Used by `commonhub init` and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.keyring import create_key
from hub.settings import CONFIG_NAME, Settings, SettingsError, build_settings, render_toml
from hub.store import keys as key_store
from hub.store.db import Database


async def init_hub(home: Path, *, domain: str, name: str, display_name: str = "",
                   summary: str = "", dev: bool = False, **extra: Any) -> Settings:
    """Create HOME/commonhub.toml, the database and the hub's keys; refuse an existing hub."""
    if (home / CONFIG_NAME).exists():
        raise SettingsError(f"{home / CONFIG_NAME} already exists: this hub is initialised")
    values: dict[str, Any] = {"domain": domain.lower(), "name": name,
                              "display_name": display_name or name, "summary": summary,
                              "dev": dev, **extra}
    settings = build_settings({**values, "home": home})  # validate before writing anything
    home.mkdir(parents=True, exist_ok=True)
    db = await Database.open(settings.database_path, synchronous=settings.sqlite_synchronous)
    try:
        await db.migrate()
        for actor in ("hub", "instance"):
            if await key_store.current_key(db, actor) is None:
                await create_key(db, actor)
    finally:
        await db.close()
    # Written last: a home with a settings file is a complete hub.
    (home / CONFIG_NAME).write_text(render_toml(values), encoding="utf-8")
    return settings
