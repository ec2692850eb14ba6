"""Signer identity from Fulcio certificates and cosign-compatible identity policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from slsalint.errors import ConfigError
from slsalint.verify.identity import (
    SignerIdentity,
    SignerPolicy,
    certificate_claims,
    match,
    parse_annotations,
)
from slsalint.verify.keys import load_public_key
from tests.support.pki import DEFAULT_IDENTITY, DEFAULT_ISSUER, TestPKI, public_pem, signing_key

GITLAB_ISSUER = "https://gitlab.com"


def test_claims_from_legacy_and_der_extensions(pki: TestPKI) -> None:
    subject, issuer, claims = certificate_claims(pki.leaf().certificate)
    assert subject == DEFAULT_IDENTITY
    assert issuer == DEFAULT_ISSUER
    # legacy .1.2-.1.6 (raw strings) and DER .1.9+ (UTF8String) both decoded
    assert claims["github-workflow-repository"] == "acme/app"
    assert claims["github-workflow-trigger"] == "push"
    assert claims["source-repository-uri"] == "https://github.com/acme/app"
    assert claims["runner-environment"] == "github-hosted"


def test_issuer_falls_back_to_the_legacy_extension(pki: TestPKI) -> None:
    leaf = pki.leaf(issuer="https://accounts.google.com", legacy_issuer_only=True, key_seed="legacy")
    assert certificate_claims(leaf.certificate)[1] == "https://accounts.google.com"


def test_email_identity(pki: TestPKI) -> None:
    leaf = pki.leaf(identity="dev@example.com", email=True, issuer=GITLAB_ISSUER, claims={})
    identity = SignerIdentity.from_certificate(leaf.certificate)
    assert identity.subject == "dev@example.com"
    assert identity.github == {}
    assert identity.keyless and identity.certificate_pem is not None


def keyless(**kwargs: str) -> SignerPolicy:
    return SignerPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def identity(pki: TestPKI) -> SignerIdentity:
    return SignerIdentity.from_certificate(pki.leaf().certificate)


def test_exact_identity_and_issuer(identity: SignerIdentity) -> None:
    assert match(identity, [keyless(identity=DEFAULT_IDENTITY, issuer=DEFAULT_ISSUER)])[0]
    ok, reason = match(identity, [keyless(identity=DEFAULT_IDENTITY + "x", issuer=DEFAULT_ISSUER)])
    assert not ok and reason == f"is not an allowed signer (signer 1: identity is not '{DEFAULT_IDENTITY}x')"
    # the reason names what was wanted, never the signer's own identity (the finding names it once)
    assert reason.count(DEFAULT_IDENTITY) == 1


def test_wrong_issuer_is_rejected(identity: SignerIdentity) -> None:
    ok, reason = match(identity, [keyless(identity=DEFAULT_IDENTITY, issuer=GITLAB_ISSUER)])
    assert not ok
    assert "issuer" in reason and GITLAB_ISSUER in reason


def test_regexp_is_an_unanchored_search_like_go_matchstring(identity: SignerIdentity) -> None:
    # cosign's regexp.MatchString finds the pattern anywhere in the value
    assert match(identity, [keyless(identity_regexp=r"acme/app", issuer=DEFAULT_ISSUER)])[0]
    assert match(identity, [keyless(identity_regexp=r"release\.yml", issuer_regexp=r"actions")])[0]
    # anchors restrict it to the whole value
    assert not match(identity, [keyless(identity_regexp=r"^acme/app", issuer=DEFAULT_ISSUER)])[0]
    assert match(
        identity,
        [keyless(identity_regexp=r"^https://github\.com/acme/app/.+@refs/tags/v.+\z", issuer=DEFAULT_ISSUER)],
    )[0]
    assert not match(identity, [keyless(identity_regexp=r"@refs/heads/main$", issuer=DEFAULT_ISSUER)])[0]


def test_several_signers_are_an_or(identity: SignerIdentity) -> None:
    policies = [
        keyless(identity="https://gitlab.com/acme/app//.gitlab-ci.yml@refs/heads/main", issuer=GITLAB_ISSUER),
        keyless(identity_regexp="^https://github.com/acme/", issuer=DEFAULT_ISSUER),
    ]
    ok, reason = match(identity, policies)
    assert ok and "allowed by" in reason
    ok, reason = match(identity, policies[:1])
    assert not ok
    ok, reason = match(identity, [policies[0], keyless(identity="x", issuer="y", name="signers[2]")])
    assert not ok and "none of 2 allowed signers" in reason and "signers[2]" in reason


def test_github_claim_constraints(identity: SignerIdentity) -> None:
    good = SignerPolicy(
        identity_regexp=".",
        issuer=DEFAULT_ISSUER,
        github={"github-workflow-repository": "acme/app", "runner-environment": "github-hosted"},
    )
    bad = SignerPolicy(
        identity_regexp=".",
        issuer=DEFAULT_ISSUER,
        github={"github-workflow-repository": "fakeowner/fakerepo"},
    )
    assert match(identity, [good])[0]
    ok, reason = match(identity, [bad])
    assert not ok and "github-workflow-repository" in reason


def test_key_signers(tmp_path: Path) -> None:
    key = signing_key("p256")
    path = tmp_path / "cosign.pub"
    path.write_bytes(public_pem(key))
    signer = SignerIdentity.from_key(load_public_key(public_pem(key)))
    assert match(signer, [SignerPolicy(key=path)])[0]
    other = SignerPolicy(key=load_public_key(public_pem(signing_key("p256", "other")), source="other.pub"))
    ok, reason = match(signer, [other])
    assert not ok and "other.pub" in reason
    # a keyless policy never accepts a key signature, and the reverse
    assert not match(signer, [keyless(identity="x", issuer="y")])[0]


def test_empty_policy_allows_and_says_so(identity: SignerIdentity) -> None:
    ok, reason = match(identity, [])
    assert ok and "no signer constraint" in reason


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"issuer": DEFAULT_ISSUER}, "needs 'identity' or 'identity-regexp'"),
        ({"identity": DEFAULT_IDENTITY}, "needs 'issuer' or 'issuer-regexp'"),
        ({"identity_regexp": "(", "issuer": DEFAULT_ISSUER}, "invalid regular expression"),
        ({"identity": "a", "issuer": "b", "github": {"no-such-claim": "x"}}, "unknown GitHub claim"),
        ({"identity": "a", "key": Path("k.pub")}, "cannot also constrain"),
    ],
)
def test_policy_errors_are_configuration_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SignerPolicy(**kwargs)  # type: ignore[arg-type]


def test_signers_from_the_policy_file(tmp_path: Path, identity: SignerIdentity) -> None:
    microcks = SignerPolicy.from_mapping(
        {
            "issuer": DEFAULT_ISSUER,
            "identity-regexp": r"^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/.+$",
            "annotations": ["tag=v1.2.3"],
            "github": {"github-workflow-repository": "acme/app"},
        },
        name="signers[0]",
    )
    assert microcks.annotations == {"tag": "v1.2.3"}
    assert match(identity, [microcks])[0]
    keyed = SignerPolicy.from_mapping({"key": "keys/cosign.pub"}, name="signers[1]", base=tmp_path)
    assert keyed.key == tmp_path / "keys" / "cosign.pub"
    assert SignerPolicy.from_mapping(
        {"identity": "a", "issuer": "b", "annotations": {"build": 42, "signed": True}}, name="s"
    ).annotations == {"build": "42", "signed": "true"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"identity": "a", "issuer": "b", "subject": "c"}, "unknown key"),
        ({"identity": 3, "issuer": "b"}, "must be a non-empty string"),
        ({"identity": "a", "issuer": "b", "annotations": ["novalue"]}, "KEY=VALUE"),
        ({"identity": "a", "issuer": "b", "github": {"x": ["y"]}}, "must map names to strings"),
    ],
)
def test_bad_signer_entries(entry: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        SignerPolicy.from_mapping(entry, name="signers[3]")
    assert "signers[3]" in str(caught.value)


def test_annotation_flags() -> None:
    assert parse_annotations(["tag=v1", "note=a=b"]) == {"tag": "v1", "note": "a=b"}
    with pytest.raises(ConfigError, match="--annotations"):
        parse_annotations(["=x"])
