"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "assets" / "corpus"
"""Real public attestations, bundles, layouts, trust roots and schemas (tests/assets/SOURCES.md)."""


@pytest.fixture
def corpus() -> Path:
    """The real-data corpus in tests/assets/corpus (part of the repository)."""
    return CORPUS
