"""Where the bundled rule packs and JSON Schemas live: ``rules/`` and ``schemas/`` of the source tree
when slsalint runs from it (a checkout, an editable install), else the copies a wheel installs
inside the package (``slsalint/_rules``, ``slsalint/_schemas``)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_TREE = _PACKAGE.parent


def _bundled(name: str, installed: str) -> Path:
    if (_SOURCE_TREE / "pyproject.toml").is_file() and (_SOURCE_TREE / name).is_dir():
        return _SOURCE_TREE / name
    return _PACKAGE / installed


RULES_DIR = _bundled("rules", "_rules")
"""The bundled rule packs (``<pack>/pack.yaml`` and Rego files)."""
SCHEMAS_DIR = _bundled("schemas", "_schemas")
"""The JSON Schemas."""
