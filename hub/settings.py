"""The hub's settings: one typed object, read from `HOME/commonhub.toml`, overridden by
`COMMONHUB_<FIELD>` environment variables. Every field carries a one-line doc, and
`docs/settings.md` lists every field (a test checks it).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CONFIG_NAME = "commonhub.toml"
ENV_PREFIX = "COMMONHUB_"
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}"
                     r"[a-z0-9])?(?::\d{1,5})?$")
_USERNAME = re.compile(r"^[a-z0-9_]{1,30}$")


class SettingsError(Exception):
    """A setting is missing or invalid; the message says which and why."""


def _doc(text: str, default: Any = dataclasses.MISSING, **kw: Any) -> Any:
    if default is dataclasses.MISSING:
        return field(metadata={"doc": text}, **kw)
    return field(default=default, metadata={"doc": text}, **kw)


@dataclass(frozen=True)
class Settings:
    home: Path = _doc("Folder holding commonhub.toml, the database and uploads.")
    domain: str = _doc("Public host (and :port if not the default) of the hub: hub.example.org.")
    name: str = _doc("The hub actor's username: followed as @name@domain (a-z, 0-9, _).")
    display_name: str = _doc("The hub's name as people see it.", "")
    summary: str = _doc("A sentence or two about the hub, shown on its profile.", "")
    icon_url: str = _doc("URL of the hub's avatar image (optional).", "")
    dev: bool = _doc("Development mode: http URLs, loopback fetches allowed; not in production.",
                     False)
    host: str = _doc("Address `commonhub serve` binds to.", "127.0.0.1")
    port: int = _doc("Port `commonhub serve` binds to.", 8080)
    manually_approves_followers: bool = _doc(
        "If true, staff approve each follow request; else follows are accepted at once.", False)
    database: str = _doc("SQLite file, relative to home.", "commonhub.db")
    sqlite_synchronous: str = _doc(
        "SQLite synchronous mode: FULL survives power loss, NORMAL only a process crash.", "FULL")
    max_body_bytes: int = _doc("Largest inbox request body accepted, also after gzip.", 1_000_000)
    signature_window: int = _doc("Seconds a signed request's date may lie from now.", 3900)
    inbox_rate_limit: int = _doc(
        "Activities one remote host may deliver per inbox_rate_window (429 past it); 0: no limit.",
        600)
    inbox_rate_window: float = _doc("Seconds over which inbox_rate_limit is counted.", 60.0)
    inbox_give_way: float = _doc(
        "Seconds the inbox processor waits before each batch while activities keep arriving "
        "(receipt first during a burst; not once it has lagged 10 s); 0: never waits.", 1.0)
    inbox_verifiers: int = _doc(
        "Worker processes that check inbox signatures beside the event loop; -1: one fewer "
        "than the machine's cores, at most 4; 0: none, all checks in the event loop.", -1)
    fetch_max_bytes: int = _doc("Largest remote document the fetcher reads.", 1_000_000)
    fetch_connect_timeout: float = _doc("Seconds to connect when fetching.", 5.0)
    fetch_read_timeout: float = _doc("Seconds to wait for data when fetching.", 10.0)
    fetch_total_timeout: float = _doc("Seconds a whole fetch may take.", 30.0)
    fetch_max_redirects: int = _doc("Redirects followed when fetching.", 3)
    allow_private_addresses: bool = _doc(
        "Let the fetcher reach private-range addresses (a closed LAN deployment only).", False)
    delivery_max_attempts: int = _doc("Attempts before a delivery is given up.", 16)
    delivery_backoff_cap: float = _doc("Longest wait between two attempts, in seconds.", 86400.0)
    delivery_concurrency: int = _doc("Deliveries in flight at once, across all hosts.", 200)
    delivery_per_host: int = _doc("Deliveries in flight at once to one host.", 8)
    delivery_timeout: float = _doc("Seconds one delivery may take.", 30.0)
    delivery_signature: str = _doc(
        "Signature scheme for deliveries: draft-cavage (what Mastodon expects) or rfc9421.",
        "draft-cavage")
    page_size: int = _doc("Items per page of collections and lists.", 20)
    session_idle_minutes: int = _doc(
        "Minutes of inactivity after which a staff console session ends.", 120)
    session_max_hours: int = _doc(
        "Hours after login at which a staff console session ends, however active.", 12)
    trust_forwarded_for: bool = _doc(
        "Take client addresses (for rate limits) from X-Forwarded-For: only behind a local proxy.",
        False)
    default_timezone: str = _doc(
        "The hub's usual IANA timezone: forms default to it, the weekly digest runs in it.",
        "Europe/London")
    reminder_hours: str = _doc(
        "Hours before an event that participants are reminded, comma-separated; empty: none.",
        "24,1")
    weekly_digest: str = _doc(
        "When the weekly what's-on post goes out (\"mon 09:00\", hub time), or \"off\".",
        "mon 09:00")
    smtp_host: str = _doc("Mail server for reminders by email; empty: no email is sent.", "")
    smtp_port: int = _doc("Mail server port.", 587)
    smtp_security: str = _doc("starttls, tls (implicit) or none.", "starttls")
    smtp_username: str = _doc("Mail server login (empty: no login).", "")
    smtp_password: str = _doc("Mail server password (prefer COMMONHUB_SMTP_PASSWORD).", "")
    smtp_from: str = _doc("Sender address (default noreply@ the hub's domain).", "")
    log_level: str = _doc("Logging level: DEBUG, INFO, WARNING or ERROR.", "INFO")
    need_checks_one_off: str = _doc(
        "Checks every one-off task requires, comma-separated check types; empty: none.", "")
    need_checks_regular: str = _doc(
        "Checks every regular commitment (befriending...) requires, comma-separated.",
        "dbs_enhanced_adult")
    need_checks_group_role: str = _doc(
        "Checks every role at a group activity requires, comma-separated; empty: none.", "")
    check_reminder_days: int = _doc(
        "Days before a volunteer's check is due for renewal that staff are reminded; 0: never.",
        30)
    staff_email: str = _doc(
        "Address staff notices go to (checks due for renewal); empty: the console only.", "")
    ask_expiry_hours: float = _doc("Hours a volunteer has to answer an ask before it expires.",
                                   48.0)
    offer_expiry_hours: float = _doc(
        "Hours an offer between hubs (and its attestation of checks) stays open.", 72.0)
    auto_ask_top: int = _doc(
        "Policy: ask this many top candidates for each of our open needs nobody was asked "
        "about yet; 0: staff ask. Neighbours' needs are always asked about by staff.", 0)
    coordinator_name: str = _doc(
        "Who matched volunteers contact (sent after an acceptance); default: the hub's name.",
        "")
    coordinator_email: str = _doc("The coordinator's email, given to matched volunteers.", "")
    coordinator_phone: str = _doc("The coordinator's phone, given to matched volunteers.", "")
    area_name: str = _doc(
        "A coarse name for the hub's area (a borough, a town), published with it.", "")
    area_latitude: float = _doc("Latitude of the centre of the hub's area, in degrees.", 0.0)
    area_longitude: float = _doc("Longitude of the centre of the hub's area, in degrees.", 0.0)
    area_radius_km: float = _doc(
        "Radius of the hub's area in km; 0: the hub publishes no area and pairs with no one.",
        0.0)
    neighbourhood_radius_km: float = _doc(
        "How far from its centre the hub looks for neighbours, in km (see docs/neighbours.md).",
        10.0)
    neighbour_seeds: str = _doc(
        "Hubs to start discovery from: handles or URLs, comma-separated.", "")
    discovery_interval: float = _doc("Seconds between two walks of the neighbourhood.", 21600.0)
    discovery_depth: int = _doc("Hops of peers-of-peers a walk follows from its starting hubs.",
                                3)
    discovery_rate: float = _doc("Most requests per second a walk sends, all hubs together.",
                                 5.0)
    discovery_concurrency: int = _doc("Hubs a walk visits at once.", 8)
    discovery_max_hubs: int = _doc("Most hubs one walk visits.", 500)
    accept_neighbour_follows: bool = _doc(
        "Accept follows from recognised commonhub hubs at once, even with manual approval on.",
        True)

    # Derived ---------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "http" if self.dev else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def database_path(self) -> Path:
        return self.home / self.database

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME


def setting_docs() -> dict[str, str]:
    """Every setting's name and one-line doc, in declaration order."""
    return {f.name: f.metadata["doc"] for f in fields(Settings)}


def load_settings(home: Path, env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Settings:
    """Read HOME/commonhub.toml, then COMMONHUB_* variables, then explicit overrides."""
    env = os.environ if env is None else env
    path = home / CONFIG_NAME
    if not path.is_file():
        raise SettingsError(f"no {CONFIG_NAME} in {home}: run `commonhub init --home {home}` first")
    try:
        values: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from exc
    values.update(_from_env(env))
    values.update(overrides or {})
    values["home"] = home
    return build_settings(values)


def build_settings(values: Mapping[str, Any]) -> Settings:
    """Convert and validate raw values into Settings; raise SettingsError on any bad one."""
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)}")
    converted = {name: _convert(name, known[name].type, raw) for name, raw in values.items()}
    missing = [n for n, f in known.items() if n not in converted and _required(f)]
    if missing:
        raise SettingsError(f"missing setting(s): {', '.join(missing)}")
    settings = Settings(**converted)
    _validate(settings)
    return settings


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _from_env(env: Mapping[str, str]) -> dict[str, str]:
    names = {f.name for f in fields(Settings)} - {"home"}
    return {k[len(ENV_PREFIX):].lower(): v for k, v in env.items()
            if k.startswith(ENV_PREFIX) and k[len(ENV_PREFIX):].lower() in names}


def _convert(name: str, kind: Any, raw: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            return _to_bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: {raw!r} is not a valid {kind}") from exc


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(raw)


def _validate(s: Settings) -> None:
    if not _DOMAIN.match(s.domain):
        raise SettingsError(f"domain {s.domain!r} is not a host name (with an optional :port)")
    if not _USERNAME.match(s.name):
        raise SettingsError(f"name {s.name!r}: use 1-30 characters among a-z, 0-9 and _")
    if not 0 <= s.port <= 65535:
        raise SettingsError(f"port {s.port} is out of range")
    if s.sqlite_synchronous.upper() not in {"NORMAL", "FULL", "EXTRA"}:
        raise SettingsError("sqlite_synchronous must be NORMAL, FULL or EXTRA")
    if s.delivery_signature not in {"draft-cavage", "rfc9421"}:
        raise SettingsError("delivery_signature must be draft-cavage or rfc9421")
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("log_level must be DEBUG, INFO, WARNING or ERROR")
    _validate_schedule(s)
    if not 0 <= s.check_reminder_days <= 3650:
        raise SettingsError("check_reminder_days is a number of days from 0 to 3650")
    if s.staff_email and "@" not in s.staff_email:
        raise SettingsError("staff_email must be an email address")
    if not -1 <= s.inbox_verifiers <= 64:
        raise SettingsError("inbox_verifiers must be -1 (automatic), 0 (none) or up to 64")
    if not 0 <= s.inbox_give_way <= 60:
        raise SettingsError("inbox_give_way must be between 0 and 60 seconds")
    if s.inbox_rate_limit < 0 or s.inbox_rate_window <= 0:
        raise SettingsError("inbox_rate_limit must be 0 or more and inbox_rate_window positive")
    _validate_area(s)
    for name in ("max_body_bytes", "fetch_max_bytes", "delivery_concurrency",
                 "delivery_per_host", "delivery_max_attempts", "page_size",
                 "session_idle_minutes", "session_max_hours"):
        if getattr(s, name) < 1:
            raise SettingsError(f"{name} must be at least 1")
    if s.ask_expiry_hours <= 0 or s.offer_expiry_hours <= 0 or not 0 <= s.auto_ask_top <= 20:
        raise SettingsError("ask_expiry_hours and offer_expiry_hours must be positive, "
                            "auto_ask_top from 0 to 20")


def _validate_area(s: Settings) -> None:
    if not -90.0 <= s.area_latitude <= 90.0:
        raise SettingsError("area_latitude must lie between -90 and 90")
    if not -180.0 <= s.area_longitude <= 180.0:
        raise SettingsError("area_longitude must lie between -180 and 180")
    for name in ("area_radius_km", "neighbourhood_radius_km"):
        if not 0.0 <= getattr(s, name) <= 500.0:
            raise SettingsError(f"{name} must lie between 0 and 500 km")
    if s.discovery_interval <= 0 or s.discovery_rate <= 0:
        raise SettingsError("discovery_interval and discovery_rate must be positive")
    for name in ("discovery_concurrency", "discovery_max_hubs"):
        if getattr(s, name) < 1:
            raise SettingsError(f"{name} must be at least 1")
    if s.discovery_depth < 0:
        raise SettingsError("discovery_depth cannot be negative")


def seed_list(s: Settings) -> list[str]:
    """The `neighbour_seeds` setting as a list of handles and URLs."""
    return [seed.strip() for seed in s.neighbour_seeds.split(",") if seed.strip()]


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def reminder_offsets(s: Settings) -> list[float]:
    """Seconds before an event at which reminders go out, largest first."""
    return sorted((float(h) * 3600 for h in s.reminder_hours.split(",") if h.strip()),
                  reverse=True)


def digest_schedule(s: Settings) -> tuple[int, int, int] | None:
    """(weekday 0=Monday, hour, minute) of the weekly digest, or None when it is off."""
    if s.weekly_digest.strip().lower() == "off":
        return None
    day, _, clock = s.weekly_digest.strip().lower().partition(" ")
    match = _CLOCK.match(clock.strip())
    if day[:3] not in _DAYS or match is None:
        raise SettingsError('weekly_digest is like "mon 09:00", or "off"')
    return _DAYS.index(day[:3]), int(match[1]), int(match[2])


# Check types a need may require (hub.volunteers.model.CHECK_TYPES, whose test keeps the two
# the same: settings are read before the rest of the hub is imported).
NEED_CHECK_TYPES = ("dbs_basic", "dbs_standard", "dbs_enhanced_adult", "dbs_enhanced_child",
                    "dbs_enhanced_adult_child", "dbs_enhanced_adult_barred",
                    "dbs_enhanced_child_barred", "dbs_enhanced_adult_child_barred")


def need_check_policy(s: Settings, kind: str) -> tuple[str, ...]:
    """The checks the hub requires of every need of `kind` (need_checks_<kind>)."""
    name = f"need_checks_{kind}"
    found = tuple(dict.fromkeys(t.strip() for t in getattr(s, name).split(",") if t.strip()))
    unknown = [t for t in found if t not in NEED_CHECK_TYPES]
    if unknown:
        raise SettingsError(f"{name}: unknown check type {unknown[0]!r}; use "
                            f"{', '.join(NEED_CHECK_TYPES)}")
    return found


def _validate_schedule(s: Settings) -> None:
    try:
        ZoneInfo(s.default_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"default_timezone {s.default_timezone!r} is not a timezone") from exc
    try:
        offsets = reminder_offsets(s)
    except ValueError as exc:
        raise SettingsError("reminder_hours is a comma-separated list of hours") from exc
    if any(o <= 0 for o in offsets):
        raise SettingsError("reminder_hours must be positive")
    digest_schedule(s)
    for kind in ("one_off", "regular", "group_role"):
        need_check_policy(s, kind)
    if s.smtp_security not in {"starttls", "tls", "none"}:
        raise SettingsError("smtp_security must be starttls, tls or none")


def render_toml(values: Mapping[str, Any]) -> str:
    """Write settings as TOML (flat keys: strings, numbers and booleans only)."""
    lines = ["# commonhub settings: see docs/settings.md. COMMONHUB_<NAME> variables override."]
    for key, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
