"""``slsalint fetch --format json``: what was written, for scripts (the real registry)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def test_fetch_format_json_names_the_snapshot(registry: Registry, tmp_path: Path) -> None:
    tags = registry.push_layout(ROOT / "examples" / "demo-image", "demo/fetch-json")
    ref = registry.ref("demo/fetch-json", "v1.0.0")
    out = tmp_path / "snapshot"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "slsalint",
            "--verbose",
            "fetch",
            ref,
            "-o",
            str(out),
            "--no-cache",
            "-f",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"reference", "digest", "layout", "manifests", "blobs"}
    assert document["digest"] == tags["v1.0.0"]
    assert document["reference"] == f"{ref}@{tags['v1.0.0']}"
    assert document["layout"] == f"oci:{out}" and (out / "index.json").is_file()
    assert document["manifests"] >= 3 and document["blobs"] > document["manifests"]
    assert "registry requests" in result.stderr  # --verbose says what it cost, on stderr only
    quiet = subprocess.run(
        [sys.executable, "-m", "slsalint", "-q", "fetch", ref, "-o", str(tmp_path / "again"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.splitlines() == [
        f"wrote {ref}@{tags['v1.0.0']} to oci:{tmp_path / 'again'} ({document['manifests']} manifests, "
        f"{document['blobs']} blobs)"
    ]
