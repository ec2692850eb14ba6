"""Every true cause of a failed verification, not only the first one a verifier stops at, and
whether the signer is nevertheless established (``signer_verified``: the signature verifies with
the certificate's key and the certificate chains to the trusted root), so SL203 can judge it.

sigstore-python stops at its first error; slsalint then checks the signature and the chain
itself, so that "no transparency-log evidence" and "signed by a certificate of another CA" are
both reported, and a certificate that does not chain says ``certificate chain does not lead to
the trusted root ...`` (SL202) rather than hiding behind the missing log evidence (SL204).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.cosign import verify_cosign_layer
from slsalint.verify.dsse import verify_legacy_dsse
from slsalint.verify.result import SIGNATURE_INVALID, TLOG_MISSING, Verification
from slsalint.verify.trust import TrustRoot
from tests.support.pki import DEFAULT_IDENTITY, Leaf, TestPKI, b64, dsse_envelope
from tests.verify.conftest import DIGEST

PUBLIC_GOOD = "trust-roots/sigstore-public-good.production.trusted_root.json"


def texts(result: Verification) -> list[str]:
    return [p.message for p in result.problems]


def test_no_log_time_and_a_foreign_certificate_are_both_reported(
    other_pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    """A dsse/0.0.1 bundle (sigstore-python's path) by another CA, with an inclusion proof but no
    SET: sigstore-python stops at "not enough sources of verified time"."""
    bundle = other_pki.dsse_bundle(payload, other_pki.leaf(), with_set=False)
    result = verify_bundle(bundle, trust, artifact_digest=DIGEST)
    assert result.rule_ids == {TLOG_MISSING, SIGNATURE_INVALID}, result.problems
    assert any(
        m.startswith("certificate chain does not lead to the trusted root test root") for m in texts(result)
    )
    assert not result.signer_verified
    assert result.identity is not None and result.identity.subject == DEFAULT_IDENTITY


def test_foreign_certificate_with_log_evidence_is_a_chain_problem_not_tlog(
    other_pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    result = verify_bundle(other_pki.dsse_bundle(payload, other_pki.leaf()), trust, artifact_digest=DIGEST)
    assert result.rule_ids == {SIGNATURE_INVALID}, result.problems
    assert any("certificate chain does not lead to the trusted root" in m for m in texts(result))
    assert not any("failed to build timestamp certificate chain" in m for m in texts(result))


def test_a_tampered_payload_is_not_a_known_signer(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    bundle = pki.dsse_bundle(payload, leaf)
    bundle["dsseEnvelope"]["payload"] = b64(payload.replace(b"artifact", b"artefact"))
    result = verify_bundle(bundle, trust)
    assert not result.verified and SIGNATURE_INVALID in result.rule_ids
    assert not result.signer_verified and not result.signer_known


def test_a_log_entry_for_another_envelope_still_knows_the_signer(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    """The signature and chain hold; the log entry records another payload (sigstore-python
    says so first). The signer is known, so a wrong signer can be named too."""
    good = pki.dsse_bundle(payload, leaf)
    other = pki.dsse_bundle(payload.replace(b"artifact", b"artefact"), leaf)
    mixed = copy.deepcopy(good)
    mixed["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    result = verify_bundle(mixed, trust, artifact_digest=DIGEST)
    assert result.rule_ids == {SIGNATURE_INVALID}, result.problems
    assert result.signer_verified and result.signer_known


def test_own_path_without_log_evidence_knows_the_signer(
    pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    leaf = pki.leaf(identity="https://github.com/fork/app/.github/workflows/release.yml@refs/heads/main")
    bundle = pki.intoto_bundle(payload, leaf)
    del bundle["verificationMaterial"]["tlogEntries"]
    result = verify_bundle(bundle, trust, artifact_digest=DIGEST)
    assert result.rule_ids == {TLOG_MISSING}
    assert result.signer_verified and result.identity is not None
    assert (result.identity.subject or "").startswith("https://github.com/fork/")


def test_cosign_layer_without_rekor_bundle_knows_the_signer(
    pki: TestPKI, trust: TrustRoot, leaf: Leaf, payload: bytes
) -> None:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    del annotations["dev.sigstore.cosign/bundle"]
    result = verify_cosign_layer(blob, annotations, trust, kind="att")
    assert result.rule_ids == {TLOG_MISSING} and result.signer_verified


def test_legacy_envelope_from_another_ca_is_sl202_and_sl204(
    other_pki: TestPKI, trust: TrustRoot, payload: bytes
) -> None:
    leaf = other_pki.leaf()
    envelope = dsse_envelope(payload, leaf.key)
    envelope["signatures"][0]["cert"] = leaf.pem
    result = verify_legacy_dsse(envelope, trust)
    assert result.rule_ids == {TLOG_MISSING, SIGNATURE_INVALID}
    assert any("certificate chain does not lead to the trusted root" in m for m in texts(result))
    assert not result.signer_verified


def test_fork_signed_generator_provenance_names_its_real_signer(corpus: Path) -> None:
    """slsa-github-generator's fork-signed test file: the certificate is a real public-good one
    for a fork's workflow; without log evidence it fails SL204, and its signer is still known."""
    trust = TrustRoot.from_file(corpus / PUBLIC_GOOD)
    line = (
        (corpus / "slsa-github-generator/FAIL-untrusted-builder.dsse-legacy.intoto.jsonl")
        .read_bytes()
        .splitlines()[0]
    )
    result = verify_legacy_dsse(json.loads(line), trust)
    assert result.rule_ids == {TLOG_MISSING}
    assert result.signer_verified and result.identity is not None
    assert result.identity.subject is not None and result.identity.subject.startswith(
        "https://github.com/asraa/"
    )
