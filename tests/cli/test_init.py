"""``slsalint init``: a starter policy that loads, for the detected use, with placeholders when
nothing is detected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from slsalint import load_policy
from slsalint.starter import Detected, detect, parse_remote, render
from slsalint.suggest import closest, did_you_mean, unknown

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd), "PYTHONPATH": str(ROOT)},
    )


def git_checkout(path: Path, remote: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/microcks/microcks.git", ("github.com", "microcks/microcks")),
        ("git@github.com:rancher/fleet.git", ("github.com", "rancher/fleet")),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/project.git",
            ("gitlab.example.com", "group/sub/project"),
        ),
        ("https://user:token@gitlab.com/group/project", ("gitlab.com", "group/project")),
        ("not a url", None),
    ],
)
def test_parse_remote(url: str, expected: tuple[str, str] | None) -> None:
    assert parse_remote(url) == expected


def test_github_gate(tmp_path: Path) -> None:
    repo = git_checkout(tmp_path / "microcks", "git@github.com:microcks/microcks.git")
    (repo / ".github" / "workflows").mkdir(parents=True)
    result = run("init", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote slsalint.yaml")
    policy = load_policy(repo / "slsalint.yaml")
    [signer] = policy.signers
    text = (repo / "slsalint.yaml").read_text()
    assert "issuer: https://token.actions.githubusercontent.com" in text
    assert r"^https://github\.com/microcks/microcks/\.github/workflows/" in text
    assert "ORG/REPO" not in text
    listed = run("rules", "list", "--policy", "slsalint.yaml", cwd=repo)
    assert listed.returncode == 0, listed.stderr
    assert signer is not None


def test_gitlab_gate_names_the_instance(tmp_path: Path) -> None:
    repo = git_checkout(tmp_path / "p", "https://gitlab.example.com/group/project.git")
    (repo / ".gitlab-ci.yml").write_text("stages: [build]\n")
    assert detect(repo) == Detected(ci="gitlab", host="gitlab.example.com", repository="group/project")
    assert run("init", cwd=repo).returncode == 0
    text = (repo / "slsalint.yaml").read_text()
    assert "issuer: https://gitlab.example.com" in text
    assert r"group/project//\.gitlab-ci\.yml@refs/" in text
    load_policy(repo / "slsalint.yaml")


def test_components_use_writes_a_component_map(tmp_path: Path) -> None:
    repo = git_checkout(tmp_path / "fleet", "https://github.com/rancher/fleet")
    assert run("init", "--use", "components", cwd=repo).returncode == 0
    policy = load_policy(repo / "slsalint.yaml")
    assert "example-agent" in (repo / "slsalint.yaml").read_text()
    assert policy.components is not None


def test_nothing_detected_leaves_a_visible_placeholder(tmp_path: Path) -> None:
    text = render("gate", Detected(ci=None, host=None, repository=None))
    assert "ORG/REPO is a placeholder" in text
    path = tmp_path / "slsalint.yaml"
    path.write_text(text)
    load_policy(path)


def test_refuses_to_overwrite_and_unknown_use(tmp_path: Path) -> None:
    (tmp_path / "slsalint.yaml").write_text("version: 1\n")
    result = run("init", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "slsalint: error: slsalint.yaml exists; use --force to overwrite it"
    assert (tmp_path / "slsalint.yaml").read_text() == "version: 1\n"
    assert run("init", "--force", cwd=tmp_path).returncode == 0
    bad = run("init", "--use", "comp", "-o", "x.yaml", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown --use value 'comp' (did you mean components?)" in bad.stderr


def test_did_you_mean() -> None:
    assert closest("SL3O2", ["SL301", "SL302", "SL501"])[0] == "SL302"
    assert did_you_mean("recomended", ["recommended", "docker-scout"]) == " (did you mean recommended?)"
    assert did_you_mean("zzz", ["recommended"]) == ""
    assert unknown("pack", "scout", ["docker-scout", "recommended"]).startswith(
        "unknown pack 'scout' (did you mean docker-scout?)"
    )
