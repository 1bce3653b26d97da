from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import Settings, SettingsError, build_settings, load_settings, render_toml

ROOT = Path(__file__).resolve().parents[2]


def _write(home: Path, **values: object) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "commonhub.toml").write_text(render_toml(values), encoding="utf-8")


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    _write(tmp_path, domain="hub.example.org", name="redbridge", delivery_per_host=4)
    env = {"COMMONHUB_DELIVERY_PER_HOST": "6", "COMMONHUB_DEV": "yes", "UNRELATED": "x"}
    settings = load_settings(tmp_path, env=env, overrides={"port": 9000})
    assert settings.delivery_per_host == 6 and settings.dev is True and settings.port == 9000
    assert settings.base_url == "http://hub.example.org"


def test_production_base_url_is_https(tmp_path: Path) -> None:
    _write(tmp_path, domain="hub.example.org", name="redbridge")
    assert load_settings(tmp_path, env={}).base_url == "https://hub.example.org"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("domain", "not a host", "domain"),
    ("name", "Has Spaces", "name"),
    ("port", "eighty", "port"),
    ("dev", "perhaps", "dev"),
    ("sqlite_synchronous", "OFF", "sqlite_synchronous"),
    ("delivery_signature", "md5", "delivery_signature"),
    ("max_body_bytes", "0", "max_body_bytes"),
    ("colour", "blue", "unknown setting"),
])
def test_bad_values_are_refused_with_the_setting_named(field: str, value: str,
                                                       message: str) -> None:
    values = {"home": Path("."), "domain": "hub.example.org", "name": "hub", field: value}
    with pytest.raises(SettingsError, match=message):
        build_settings(values)


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="commonhub init"):
        load_settings(tmp_path, env={})
    (tmp_path / "commonhub.toml").write_text("domain = ", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(tmp_path, env={})


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.__dataclass_fields__ if f"`{name}`" not in docs]
    assert missing == [], f"document these in docs/settings.md: {missing}"
