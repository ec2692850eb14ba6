"""Every `slsalint` command the README shows is run, as a user would type it, in a directory set up
with what the commands name (the README's own policy file, the example image as the layouts it
names, real attestation files from tests/assets, a generated key, Rego rules).

Commands that talk to a registry by name (ghcr.io, Docker Hub, registry.example.com) cannot run
offline; they are listed, and the test fails when a command is neither run nor such a one, so a
new README command is never silently left out. Placeholders the README writes for values only the
reader knows (``sha256:...``, an expiry date) are filled with real ones.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "tests" / "assets"
README = ROOT / "README.md"
REGISTRY_NAMES = ("ghcr.io/", "registry.example.com/", "check alpine")
"""Commands naming these reach a registry on the internet: never run by the tests."""

RULE = """package org.rules

import rego.v1

# METADATA
# title: builder is recorded
# custom:
#   id: ORG001
#   severity: error
deny contains result if {
\tnot input.predicate.builder
\tresult := {"msg": "the provenance names no builder"}
}
"""

RULE_TEST = """package org.rules_test

import rego.v1

import data.org.rules

test_builder_missing_is_denied if {
\tcount(rules.deny) == 1 with input as {"predicate": {}}
}
"""


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.S | re.M)


def commands(text: str) -> list[str]:
    """The `slsalint ...` command lines of the README's shell blocks (continuations joined,
    comments dropped)."""
    out = []
    for block in fenced(text, "sh"):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "slsalint":
                # quoted as typed, except the globs the shell is meant to expand
                out.append(" ".join(w if "*" in w and "/" not in w else shlex.quote(w) for w in words))
    return out


def needs_registry(command: str) -> bool:
    return any(name in command for name in REGISTRY_NAMES)


def layout_digest(layout: Path) -> str:
    index = json.loads((layout / "index.json").read_text())
    return str(index["manifests"][0]["digest"])


def prepare(work: Path) -> dict[str, str]:
    """The files and directories the README's commands name; returns the placeholder values."""
    demo = ROOT / "examples" / "demo-image"
    for name in ("image", "snapshot", "path/to/layout"):
        shutil.copytree(demo, work / name)
    # `oci:path/to/layout:v1.2.0`: the README's tag for the layout's image
    index_file = work / "path/to/layout" / "index.json"
    index = json.loads(index_file.read_text())
    index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] = "v1.2.0"
    index_file.write_text(json.dumps(index, indent=2))

    policy = fenced(README.read_text(), "yaml")[0]
    (work / "slsalint.yaml").write_text(policy)
    key = ec.generate_private_key(ec.SECP256R1())
    (work / "keys").mkdir()
    (work / "keys" / "cosign.pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (work / "policies").mkdir()
    (work / "policies" / "rules.rego").write_text(RULE)
    (work / "policies" / "rules_test.rego").write_text(RULE_TEST)

    provenance = ASSETS / "corpus" / "buildkit" / "example-package-v1.9.0.provenance-v02-max.intoto.json"
    statement = json.loads(provenance.read_text())
    (work / "provenance.intoto.jsonl").write_text(json.dumps(statement) + "\n")
    happy = ASSETS / "sigstore-conformance"
    shutil.copy(happy / "happy-path-v0.3" / "bundle.sigstore.json", work / "app.sigstore.json")
    shutil.copy(happy / "a.txt", work / "app.tar.gz")
    (work / "release.txt").write_text("# the release\noci:image\noci:path/to/layout:v1.2.0\n")
    return {
        "subject": "sha256:" + statement["subject"][0]["digest"]["sha256"],
        "image": layout_digest(work / "path/to/layout"),
        "expires": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
        "renewed": (datetime.date.today() + datetime.timedelta(days=120)).isoformat(),
    }


def fill(command: str, values: dict[str, str]) -> str:
    if "--subject sha256:..." in command:
        command = command.replace("sha256:...", values["subject"])
    command = command.replace("sha256:...", values["image"])
    if " renew " in command:
        return re.sub(r"--expires \S+", f"--expires {values['renewed']}", command)
    return re.sub(r"--expires \S+", f"--expires {values['expires']}", command)


def test_every_readme_command_runs_offline_or_names_a_registry(tmp_path: Path) -> None:
    listed = commands(README.read_text())
    values = prepare(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "slsalint"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m slsalint "$@"\n')
    launcher.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path / "home"),
        "NO_COLOR": "1",
        "PYTHONPATH": str(ROOT),
    }
    ran: list[str] = []
    skipped: list[str] = []
    # The policy names the exceptions file that `exceptions add` creates: those commands first.
    ordered = sorted(listed, key=lambda c: 0 if c.split()[1] == "exceptions" else 1)
    for command in ordered:
        if needs_registry(command):
            skipped.append(command)
            continue
        line = fill(command, values)
        result = subprocess.run(
            ["/bin/sh", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode in (0, 1), (
            f"README command `{line}` exited {result.returncode}:\n{result.stderr}{result.stdout[-2000:]}"
        )
        assert "internal error" not in result.stderr, line
        ran.append(line)
    assert len(ran) + len(skipped) == len(listed)
    # the README's offline commands really ran: layouts, files, fleets, rules, Rego, exceptions
    assert len(ran) >= 20, ran
    assert (tmp_path / "slsalint-exceptions.yaml").is_file()  # created by `exceptions add`
    merged = [c for c in ran if c.startswith("slsalint report merge")]
    assert merged and (tmp_path / "fleet.sarif").is_file()
    assert (tmp_path / "slsalint.sarif").is_file()


def test_the_readme_commands_are_found() -> None:
    """The extraction itself: continuation lines are joined and comments dropped."""
    listed = commands(README.read_text())
    assert "slsalint rules show SL302" in listed
    assert any(c.startswith("slsalint exceptions add slsalint-exceptions.yaml --rule SL302") for c in listed)
    assert not any("#" in c for c in listed)
