"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slsalint.sources.presend import PROXY_VARIABLES, TRUST_VARIABLES

NETWORK_VARIABLES = (*PROXY_VARIABLES, *TRUST_VARIABLES, "COSIGN_REPOSITORY")
"""Variables of the machine running the suite that would change how the CLI and clients reach a
registry (a CI runner's proxy, a CA bundle): cleared here, for the whole session, so every test
talks to its loopback servers directly; tests that want them set them deliberately."""
for _name in NETWORK_VARIABLES:
    os.environ.pop(_name, None)

CORPUS = Path(__file__).resolve().parent / "assets" / "corpus"
"""Real public attestations, bundles, layouts, trust roots and schemas (tests/assets/SOURCES.md)."""


@pytest.fixture
def corpus() -> Path:
    """The real-data corpus in tests/assets/corpus (part of the repository)."""
    return CORPUS
