"""The shared concept list against its JSON Schema, checked by hand (no jsonschema dependency)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hub.matching import concepts

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def _load(relative: str) -> dict:
    return json.loads((SCHEMAS / relative).read_text(encoding="utf-8"))


def test_the_concept_list_meets_its_schema() -> None:
    schema, data = _load("json/concepts.schema.json"), _load("concepts/skills.json")
    assert set(schema["required"]) <= set(data)
    assert set(data) <= set(schema["properties"])
    concept = schema["$defs"]["concept"]
    pattern = re.compile(concept["properties"]["id"]["pattern"])
    for item in data["concepts"]:
        assert set(concept["required"]) <= set(item), item
        assert set(item) <= set(concept["properties"]), item
        assert pattern.fullmatch(item["id"]), item["id"]
        assert isinstance(item["label"], str) and item["label"], item


def test_concept_ids_are_unique_and_broader_concepts_exist() -> None:
    items = _load("concepts/skills.json")["concepts"]
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    assert {item["broader"] for item in items if "broader" in item} <= set(ids)


def test_the_loader_returns_every_concept() -> None:
    loaded = concepts()
    assert len(loaded) >= 30
    assert loaded["companionship-calls"].broader == "befriending"
    assert {"befriending", "shopping-help", "digital-help", "tea-and-chat"} <= set(loaded)
