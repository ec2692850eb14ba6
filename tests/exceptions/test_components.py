"""The components map: tag transforms, image matching, policy parsing, and what SL401/SL402 check
for an image that belongs to a component."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slsalint.components import (
    Component,
    ComponentMap,
    ImageIdentity,
    TagTransform,
    identify,
    normalize_glob,
    parse_transform,
)
from slsalint.engine import LintOptions, LintRequest, lint
from slsalint.errors import ConfigError
from slsalint.policy import Policy, load_policy
from tests.exceptions.conftest import FLEET, write_image

STRIP_V = parse_transform("strip-v", "t")
RKE2 = parse_transform({"replace-suffix": {"from": "-rke2r1", "to": "+rke2r1"}}, "t")


@pytest.mark.parametrize(
    ("raw", "tag", "expected"),
    [
        ("strip-v", "v0.12.0", "0.12.0"),
        ("strip-v", "0.12.0", "0.12.0"),
        ("add-v", "0.12.0", "v0.12.0"),
        ("add-v", "v0.12.0", "v0.12.0"),
        ({"strip-prefix": "release-"}, "release-1.2", "1.2"),
        ({"strip-prefix": "release-"}, "1.2", "1.2"),
        ({"strip-suffix": "-amd64"}, "1.2-amd64", "1.2"),
        ({"replace-prefix": {"from": "v", "to": "release/"}}, "v1.2", "release/1.2"),
        ({"replace-suffix": {"from": "-rke2r1", "to": "+rke2r1"}}, "v1.30.4-rke2r1", "v1.30.4+rke2r1"),
        ({"replace-suffix": {"from": "-rke2r1", "to": "+rke2r1"}}, "v1.30.4-rke2r2", "v1.30.4-rke2r2"),
        ({"regex": {"pattern": r"-(rke2r[0-9]+)$", "replace": r"+\1"}}, "v1.30.4-rke2r2", "v1.30.4+rke2r2"),
        (
            {"regex": {"pattern": r"-build[0-9]+$", "replace": ""}},
            "v1.30.4-rke2r1-build20240815",
            "v1.30.4-rke2r1",
        ),
        ({"regex": {"pattern": r"(?P<v>[0-9.]+)", "replace": r"\g<v>"}}, "v1.2", "v1.2"),
    ],
)
def test_each_tag_transform(raw: Any, tag: str, expected: str) -> None:
    assert parse_transform(raw, "t").apply(tag) == expected


def test_transforms_apply_in_order() -> None:
    component = Component(
        "rke2", ("*/rancher/rke2-runtime",), ref="refs/tags/{tag}", tag_transforms=(STRIP_V, RKE2)
    )
    assert component.expected_ref("v1.30.4-rke2r1") == "refs/tags/1.30.4+rke2r1"
    steps = component.transform_steps("v1.30.4-rke2r1")
    assert [(str(t), result) for t, result in steps] == [
        ("strip-v", "1.30.4-rke2r1"),
        ("replace-suffix '-rke2r1' -> '+rke2r1'", "1.30.4+rke2r1"),
    ]
    reversed_order = Component("rke2", ("x",), ref="{tag}", tag_transforms=(RKE2, TagTransform("add-v")))
    assert reversed_order.expected_ref("1.30.4-rke2r1") == "v1.30.4+rke2r1"


def test_a_ref_without_tag_placeholder_is_used_as_is_and_needs_no_tag() -> None:
    component = Component("c", ("x",), ref="refs/heads/release/*")
    assert component.expected_ref(None) == "refs/heads/release/*"
    assert Component("c", ("x",), ref="refs/tags/{tag}").expected_ref(None) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("strip-w", "unknown tag transform 'strip-w'"),
        ({"regex": {"pattern": "(", "replace": ""}}, "invalid regex transform"),
        ({"regex": {"pattern": "a", "replace": r"\2"}}, "invalid group reference"),
    ],
)
def test_bad_transforms_are_refused(raw: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_transform(raw, "policy.yaml:9")


@pytest.mark.parametrize(
    ("pattern", "normalized"),
    [
        ("*/rancher/fleet-agent", "*/rancher/fleet-agent"),
        ("rancher/fleet-agent", "docker.io/rancher/fleet-agent"),
        ("alpine", "docker.io/library/alpine"),
        ("ghcr.io/org/*", "ghcr.io/org/*"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("localhost/app", "localhost/app"),
        ("/srv/layouts/fleet-agent", "/srv/layouts/fleet-agent"),
    ],
)
def test_globs_are_normalized_like_docker_references(pattern: str, normalized: str) -> None:
    assert normalize_glob(pattern) == normalized


def test_registry_references_are_matched_by_normalized_name() -> None:
    fleet = Component("fleet-agent", ("*/rancher/fleet-agent",))
    components = ComponentMap((fleet,))
    for reference in (
        "rancher/fleet-agent:v0.12.0",
        "docker.io/rancher/fleet-agent:v0.12.0",
        "index.docker.io/rancher/fleet-agent:v0.12.0@sha256:" + "a" * 64,
        "registry.example.com:5000/mirror/rancher/fleet-agent:v0.12.0",
    ):
        match = components.match(identify(reference))
        assert match is not None and match.component is fleet, reference
    assert components.match(identify("rancher/fleet-controller:v0.12.0")) is None
    assert components.match(identify("rancher/fleet-agent-extra:v0.12.0")) is None
    image = identify("rancher/fleet-agent:v0.12.0@sha256:" + "b" * 64)
    assert (image.name, image.tag, image.digest) == (
        "docker.io/rancher/fleet-agent",
        "v0.12.0",
        "sha256:" + "b" * 64,
    )


def test_layouts_are_matched_by_absolute_path_or_recorded_image_name(
    tmp_path: Path, monkeypatch: Any
) -> None:
    plain = write_image(tmp_path / "rancher", "fleet-agent")
    monkeypatch.chdir(tmp_path)
    image = identify("oci:rancher/fleet-agent:v0.12.0")
    assert (image.name, image.tag) == (str(tmp_path / "rancher" / "fleet-agent"), "v0.12.0")
    # Untagged reference: the tag comes from the index.json entry of the image.
    image = identify("oci:rancher/fleet-agent", digests=(plain.index_digest,))
    assert image.tag == "v0.12.0"

    named = write_image(
        tmp_path / "out",
        "layout",
        tag="v0.12.1",
        annotations={"io.containerd.image.name": "docker.io/rancher/fleet-agent:v0.12.1"},
    )
    image = identify(named.reference)
    assert (image.name, image.tag) == ("docker.io/rancher/fleet-agent", "v0.12.1")
    assert ComponentMap((Component("fleet-agent", ("rancher/fleet-agent",)),)).match(image) is not None


def test_an_image_claimed_by_two_components_is_a_configuration_error() -> None:
    components = ComponentMap((Component("a", ("*/rancher/*",)), Component("b", ("*/fleet-agent",))))
    with pytest.raises(
        ConfigError, match=r"matches several components: a \(\*/rancher/\*\), b \(\*/fleet-agent\)"
    ):
        components.match(identify("rancher/fleet-agent:v1"))


# --- policy file ---------------------------------------------------------------------------------


def write_policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "slsalint.yaml"
    path.write_text("version: 1\n" + body, encoding="utf-8")
    return path


def test_policy_loads_components_and_exception_settings(tmp_path: Path) -> None:
    path = write_policy(
        tmp_path,
        """\
components:
  fleet-agent:
    images: ["*/rancher/fleet-agent", "*/rancher/fleet-agent-*"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
    tag-transforms: [strip-v, {replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}]
exceptions: exceptions/fleet.yaml
exceptions-horizon-days: 90
exceptions-warning-days: 7
""",
    )
    policy = load_policy(path)
    [component] = policy.components.components
    assert component.name == "fleet-agent"
    assert component.images == ("*/rancher/fleet-agent", "*/rancher/fleet-agent-*")
    assert component.source == FLEET and component.ref == "refs/tags/{tag}"
    assert [str(t) for t in component.tag_transforms] == ["strip-v", "replace-suffix '-rke2r1' -> '+rke2r1'"]
    assert policy.exceptions == tmp_path / "exceptions" / "fleet.yaml"
    assert (policy.exceptions_horizon_days, policy.exceptions_warning_days) == (90, 7)
    defaults = load_policy(write_policy(tmp_path, "packs: [recommended]\n"))
    assert (defaults.exceptions, defaults.exceptions_horizon_days, defaults.exceptions_warning_days) == (
        None,
        180,
        14,
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            'components:\n  a:\n    images: ["x/*"]\n    ref: "refs/tags/{version}"\n',
            r"slsalint.yaml:5: components.a: unknown placeholder '\{version\}' in ref",
        ),
        (
            'components:\n  a:\n    images: ["x/*"]\n    ref: "refs/tags/{tag"\n',
            "slsalint.yaml:5: components.a: unbalanced brace",
        ),
        (
            'components:\n  a:\n    images: ["x/*"]\n    ref: main\n    tag-transforms: [strip-v]\n',
            r"slsalint.yaml:6: components.a: tag-transforms need a ref template with \{tag\}",
        ),
        (
            'components:\n  a:\n    images: ["x/*"]\n    ref: "{tag}"\n    tag-transforms: [strip-x]\n',
            "slsalint.yaml:6: /components/a/tag-transforms/0: 'strip-x' is not valid under exactly one",
        ),
        (
            'components:\n  a:\n    images: ["x/*"]\n    ref: "{tag}"\n    tag-transforms:\n'
            "      - {regex: {pattern: 'a', replace: '\\3'}}\n",
            "slsalint.yaml:7: components.a: invalid regex transform",
        ),
        ("components:\n  a:\n    source: https://x\n", "'images' is a required property"),
        ("components:\n  a b:\n    images: [x]\n", "/components"),
        ("exceptions-horizon-days: 0\n", "exceptions-horizon-days: 0 is less than the minimum of 1"),
    ],
)
def test_bad_components_are_exit_2_with_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_policy(write_policy(tmp_path, body))
    assert caught.value.exit_code == 2


def test_component_signers_are_parsed_and_never_ignored(tmp_path: Path) -> None:
    from slsalint.components import SignerSpec, parse_components

    raw = {
        "fleet-agent": {
            "images": ["*/rancher/fleet-agent"],
            "signers": [
                {
                    "issuer": "https://token.actions.githubusercontent.com",
                    "identity-regexp": "^https://github.com/rancher/",
                },
                {"key": "keys/fleet.pub"},
            ],
        }
    }
    [component] = parse_components(raw, base_dir=tmp_path, locate=lambda p: "policy").components
    assert component.signers == (
        SignerSpec(
            issuer="https://token.actions.githubusercontent.com",
            identity_regexp="^https://github.com/rancher/",
        ),
        SignerSpec(key=tmp_path / "keys" / "fleet.pub"),
    )
    path = write_policy(
        tmp_path,
        'components:\n  fleet-agent:\n    images: ["*/rancher/fleet-agent"]\n    signers:\n'
        "      - {issuer: https://token.actions.githubusercontent.com, identity: https://x}\n",
    )
    [loaded] = load_policy(path).components.components
    assert loaded.signers[0].identity == "https://x"


# --- SL401 / SL402 from the components map -------------------------------------------------------

FLEET_COMPONENTS = """\
components:
  fleet-agent:
    images: ["*/rancher/fleet-agent"]
    source: https://github.com/rancher/fleet
    ref: "refs/tags/{tag}"
"""


def source_findings(
    policy: Policy, reference: str, *, packs: list[str] | None = None
) -> list[tuple[str, str]]:
    report = lint([LintRequest(target=reference)], LintOptions(policy=policy, packs=packs))
    return sorted((f.rule_id, f.message) for f in report.findings if f.rule_id in ("SL401", "SL402"))


def test_component_source_and_ref_pass_for_the_right_build(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, FLEET_COMPONENTS))
    image = write_image(tmp_path / "rancher", "fleet-agent")
    assert source_findings(policy, image.reference) == []


def test_component_source_mismatch_is_sl401_naming_the_component(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, FLEET_COMPONENTS))
    fork = write_image(
        tmp_path / "rancher",
        "fleet-agent",
        source_uri="https://github.com/someone/fleet.git#refs/tags/v0.12.0",
    )
    found = source_findings(policy, fork.reference)
    assert [rule for rule, _ in found] == ["SL401"] * 2  # one per platform
    for _, message in found:
        assert message.startswith("source repository 'https://github.com/someone/fleet.git' from ")
        assert "of the unsigned BuildKit provenance from buildkit-attestation-manifest" in message
        assert message.endswith("is not the expected one of component fleet-agent")


def test_component_ref_is_derived_from_the_image_tag(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, FLEET_COMPONENTS))
    wrong = write_image(tmp_path / "rancher", "fleet-agent", tag="v0.12.1")  # built from refs/tags/v0.12.0
    found = source_findings(policy, wrong.reference)
    assert [rule for rule, _ in found] == ["SL402"] * 2  # one per platform
    for _, message in found:
        assert message.startswith("source ref 'refs/tags/v0.12.0' from /predicate/invocation/configSource")
        assert message.endswith("is not an expected ref of component fleet-agent")
    report = lint([LintRequest(target=wrong.reference)], LintOptions(policy=policy))
    assert {str(f.expected) for f in report.findings if f.rule_id == "SL402"} == {"['refs/tags/v0.12.1']"}


def test_component_transforms_feed_sl402(tmp_path: Path) -> None:
    policy = load_policy(
        write_policy(
            tmp_path,
            FLEET_COMPONENTS + '    tag-transforms: [{replace-suffix: {from: "-rke2r1", to: "+rke2r1"}}]\n',
        )
    )
    image = write_image(
        tmp_path / "rancher",
        "fleet-agent",
        tag="v0.12.0-rke2r1",
        source_uri=f"{FLEET}.git#refs/tags/v0.12.0+rke2r1",
    )
    assert source_findings(policy, image.reference) == []


def test_a_digest_only_reference_cannot_derive_the_ref(tmp_path: Path) -> None:
    policy = load_policy(write_policy(tmp_path, FLEET_COMPONENTS))
    image = write_image(tmp_path / "rancher", "fleet-agent", tag="")
    path = image.reference.removeprefix("oci:").removesuffix(":")
    found = source_findings(policy, f"oci:{path}@{image.index_digest}")
    assert len(found) == 1
    assert found[0][0] == "SL402" and "carries no tag to derive it from" in found[0][1]


def test_components_run_sl401_and_sl402_even_when_the_pack_does_not(tmp_path: Path) -> None:
    fork = write_image(
        tmp_path / "rancher", "fleet-agent", source_uri="https://github.com/x/fleet.git#refs/tags/v9"
    )
    policy = load_policy(write_policy(tmp_path, FLEET_COMPONENTS))
    found = {rule for rule, _ in source_findings(policy, fork.reference, packs=["docker-scout"])}
    assert found == {"SL401", "SL402"}
    off = load_policy(write_policy(tmp_path, FLEET_COMPONENTS + "rules:\n  SL401: {level: off}\n"))
    assert {rule for rule, _ in source_findings(off, fork.reference)} == {"SL402"}


def test_component_source_replaces_the_global_option(tmp_path: Path) -> None:
    policy = load_policy(
        write_policy(
            tmp_path, FLEET_COMPONENTS + "rules:\n  SL401: {repositories: [github.com/example/app]}\n"
        )
    )
    fleet = write_image(tmp_path / "rancher", "fleet-agent")
    other = write_image(tmp_path / "rancher", "other", source_uri=f"{FLEET}.git#refs/tags/v0.12.0")
    assert source_findings(policy, fleet.reference) == []
    assert [rule for rule, _ in source_findings(policy, other.reference)] == ["SL401", "SL401"]


def test_image_identity_is_plain_data() -> None:
    image = ImageIdentity("oci:x:v1", "/x", "v1", None)
    assert Component("c", ("/x",), ref="refs/tags/{tag}").matching_glob(image) == "/x"
