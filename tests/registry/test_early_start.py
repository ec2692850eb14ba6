"""``slsalint check IMAGE`` sends its first registry requests before the command line is loaded
(``slsalint._start``): which command lines do, that the run then takes those answers as its own
(each request made once), and that anything changing how registries are read turns it off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer

from slsalint import _start
from slsalint.cli import build_app
from tests.support.images import AMD64, ARM64, build
from tests.support.proxy import proxy
from tests.support.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["check", "ghcr.io/org/app:1"], "ghcr.io/org/app:1"),
        (["-q", "check", "r.example/app@sha256:" + "a" * 64], "r.example/app@sha256:" + "a" * 64),
        (["check", "r.example/app:1", "--pack", "docker-scout", "--format=sarif=x.sarif"], "r.example/app:1"),
        (["check", "--policy", "p.yaml", "r.example/app:1", "--no-color"], "r.example/app:1"),
        (["check", "-p", "p.yaml", "r.example/app:1", "-f", "sarif", "-o", "x.sarif"], "r.example/app:1"),
        (["check", "oci:examples/demo-image"], None),
        (["check", "a.example/x:1", "b.example/y:1"], None),  # several images
        (["check", "r.example/app:1", "--no-cache"], None),
        (["check", "r.example/app:1", "--insecure-registry", "r.example"], None),
        (["check", "r.example/app:1", "--timeout", "5"], None),
        (["check", "r.example/app:1", "--limit", "retries=0"], None),
        (["check", "r.example/app:1", "--offline"], None),
        (["check", "r.example/app:1", "--help"], None),
        (["check", "r.example/app:1", "--pack"], None),  # a value missing: the parser says so
        (["check", "--images", "list.txt"], None),
        (["fetch", "r.example/app:1", "-o", "out"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_which_command_lines_start_early(args: list[str], target: str | None) -> None:
    assert _start.registry_target(args) == target


def test_the_safe_option_lists_are_true_to_the_command() -> None:
    """Every option the early start lets through is an option of ``check`` of the same kind, and
    none of them changes how registries are read (those are refused by name below)."""
    root = typer.main.get_command(build_app("check"))
    check = root.commands["check"]  # type: ignore[attr-defined]
    kinds: dict[str, bool] = {}
    for param in check.params:
        if param.param_type_name == "option":
            for name in param.opts + param.secondary_opts:
                kinds[name] = param.is_flag
    for name in _start.SAFE_VALUE_OPTIONS:
        assert kinds.get(name) is False, name
    for name in _start.SAFE_FLAGS:
        assert kinds.get(name) is True, name
    reading = {
        "--offline",
        "--insecure-registry",
        "--registry-ca",
        "--no-cache",
        "--timeout",
        "--limit",
        "--attestation-repository",
        "--images",
        "--jobs",
        "--shard",
        "--github-attestations",
        "--accept-vsa",
    }
    assert reading <= set(kinds)
    assert not reading & (_start.SAFE_VALUE_OPTIONS | _start.SAFE_FLAGS)
    flags = {name for p in root.params if p.param_type_name == "option" for name in p.opts}
    assert flags >= _start.GLOBAL_FLAGS


def _cli(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slsalint", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), **env},
    )


def test_the_run_takes_the_early_answers_as_its_own(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: None, ARM64: None}, att_for_index=True)
    registry.push_layout(layout, "early/app")
    outcomes = {}
    for name, extra in (("early", []), ("not early", ["--no-cache"]), ("timeout", ["--timeout", "300"])):
        with proxy(registry.base) as (host, state):
            done = _cli(["check", f"{host}/early/app:v1.0.0", *extra], tmp_path / name.replace(" ", "-"))
            paths = state.requests()
        assert done.returncode == 0, done.stderr
        # Asked once each: the early answers were the collector's, not asked again.
        assert [p for p in paths if p.endswith("/manifests/v1.0.0")] == ["/v2/early/app/manifests/v1.0.0"]
        assert [p for p in paths if p.endswith("/tags/list")] == ["/v2/early/app/tags/list"]
        outcomes[name] = (done.stdout.replace(host, "HOST"), sorted(paths))
    assert outcomes["early"] == outcomes["not early"] == outcomes["timeout"]


def test_cosign_repository_moves_the_early_tag_list(registry: Registry, tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path, attest={AMD64: None})
    registry.push_layout(layout, "early/moved")
    with proxy(registry.base) as (host, state):
        done = _cli(["check", f"{host}/early/moved:v1.0.0"], tmp_path, COSIGN_REPOSITORY=f"{host}/early/sigs")
        paths = state.requests()
    assert done.returncode in (0, 1), done.stderr
    assert [p for p in paths if p.endswith("/tags/list")] == ["/v2/early/sigs/tags/list"]


def test_the_early_client_is_taken_only_with_its_own_settings(registry: Registry, tmp_path: Path) -> None:
    from dataclasses import replace

    from slsalint.engine import RegistrySettings
    from slsalint.sources.reference import parse_reference

    layout, _, _ = build(tmp_path, attest={AMD64: None})
    registry.push_layout(layout, "early/taken")

    with proxy(registry.base) as (host, _state):
        ref = parse_reference(f"{host}/early/taken:v1.0.0")
        defaults = RegistrySettings()
        for settings in (
            defaults,
            replace(defaults, use_cache=False),
            replace(defaults, timeout=5.0),
            replace(defaults, insecure=frozenset({host})),
            replace(defaults, cache_dir=tmp_path),
        ):
            _start.start(["check", str(ref)])
            client = _start.take(settings)
            assert (client is not None) == (settings == defaults), settings
            if client is not None:
                assert (
                    settings.budget() is client.budget
                )  # the run's budget is the early one, started with it
                assert client.get_manifest(ref, "v1.0.0").digest.startswith("sha256:")
                client.close()
            assert _start.take(RegistrySettings()) is None  # taken (or closed) once
