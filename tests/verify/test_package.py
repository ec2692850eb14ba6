"""The package surface: lazy exports and a cheap import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import slsalint.verify as verify


def test_every_export_resolves() -> None:
    for name in verify.__all__:
        assert getattr(verify, name) is not None, name


def test_import_does_not_load_sigstore_or_cryptography() -> None:
    code = (
        "import sys, slsalint.verify\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sigstore', 'cryptography')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
