"""Rules of the codebase that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_federation_never_imports_hub() -> None:
    offenders = [p.name for p in (ROOT / "federation").rglob("*.py") if "hub" in _imports(p)]
    assert offenders == [], f"federation/ must stay a library: {offenders} import hub"


def test_schemas_import_neither_layer() -> None:
    for path in (ROOT / "schemas").rglob("*.py"):
        assert not {"hub", "federation"} & _imports(path), path.name


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extras"
    result = subprocess.run([ruff, "check", "--quiet", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
