"""Postcode districts to approximate points, from schemas/postcodes/uk-districts-london.csv."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from hub.matching.geo import GeoPoint

DATASET = "uk-districts-london.csv"


@cache
def districts() -> dict[str, tuple[GeoPoint, str]]:
    """Every district the dataset knows: its centre and its place name."""
    text = (resources.files("schemas") / "postcodes" / DATASET).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {row["district"]: (GeoPoint(float(row["latitude"]), float(row["longitude"])),
                              row["name"]) for row in rows}


def district_point(district: str) -> tuple[str, GeoPoint, str] | None:
    """(district, centre, place name) for `SW9`, `sw9` or a sub-district such as `SW1A`
    (read as `SW1`); None when the dataset does not know it."""
    key = district.strip().upper().replace(" ", "")
    known = districts()
    if key not in known and key[-1:].isalpha():
        key = key[:-1]  # a sub-district: its district's centre
    if key not in known:
        return None
    point, name = known[key]
    return key, point, name
