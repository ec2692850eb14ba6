"""The trusted root's validity windows (``validFor``) are judged at the signing time on every
verification path: the transparency-log key, the CT log key, the Fulcio CA and the timestamp
authority.

sigstore-python judges these windows against the current time only; slsalint's own checks on its
path complete them (``dsse`` and ``hashedrekord`` entries: actions/attest, cosign v3,
slsa-github-generator v2, ``cosign sign-blob``). Each window is tried on each path that has it:
sigstore-python's DSSE and message-signature paths, slsalint's own ``intoto`` path, and legacy
cosign layers; TSA windows and Rekor v2 (time from the timestamp only) on real
sigstore-conformance bundles with their own trusted roots. A window that ends exactly at the
signing time still holds (a ``TimeRange`` is closed).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from slsalint.verify.bundle import verify_bundle
from slsalint.verify.cosign import verify_cosign_layer
from slsalint.verify.result import SIGNATURE_INVALID, Verification
from slsalint.verify.trust import TrustRoot
from tests.support.pki import T0, Leaf, TestPKI
from tests.verify.conftest import DIGEST

SIGNED_AT = T0 + timedelta(minutes=5)
"""The integrated time of every test PKI log entry."""
ARTIFACT = b"release artifact\n"
ARTIFACT_DIGEST = "sha256:" + hashlib.sha256(ARTIFACT).hexdigest()
SUITE = Path(__file__).resolve().parents[1] / "assets" / "sigstore-conformance"

Verify = Callable[[TestPKI, Leaf, bytes, TrustRoot], Verification]


def sigstore_dsse(pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot) -> Verification:
    return verify_bundle(pki.dsse_bundle(payload, leaf), trust, artifact_digest=DIGEST)


def sigstore_message(pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot) -> Verification:
    return verify_bundle(
        pki.message_bundle(ARTIFACT, leaf, version="0.3"), trust, artifact_digest=ARTIFACT_DIGEST
    )


def own_intoto(pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot) -> Verification:
    return verify_bundle(pki.intoto_bundle(payload, leaf), trust, artifact_digest=DIGEST)


def cosign_att(pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot) -> Verification:
    blob, annotations = pki.cosign_att_layer(payload, leaf)
    return verify_cosign_layer(blob, annotations, trust, kind="att")


def cosign_sig(pki: TestPKI, leaf: Leaf, payload: bytes, trust: TrustRoot) -> Verification:
    data, annotations = pki.cosign_sig_layer("sha256:" + "cd" * 32, leaf)
    return verify_cosign_layer(data, annotations, trust, kind="sig")


PATHS: dict[str, Verify] = {
    "sigstore-dsse": sigstore_dsse,
    "sigstore-message": sigstore_message,
    "own-intoto": own_intoto,
    "cosign-att": cosign_att,
    "cosign-sig": cosign_sig,
}
SIGSTORE_PATHS = ("sigstore-dsse", "sigstore-message")


def root(pki: TestPKI, **windows: Any) -> TrustRoot:
    return TrustRoot.from_json(json.dumps(pki.trusted_root(**windows)).encode(), source="windowed root")


def messages(result: Verification) -> str:
    return " | ".join(p.message for p in result.problems)


@pytest.mark.parametrize("path", PATHS)
def test_every_path_verifies_inside_all_windows(pki: TestPKI, leaf: Leaf, payload: bytes, path: str) -> None:
    result = PATHS[path](pki, leaf, payload, root(pki))
    assert result.verified, result.problems
    if path in SIGSTORE_PATHS:
        assert result.integrated_time == SIGNED_AT


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "window",
    [
        (datetime(2020, 1, 1, tzinfo=UTC), SIGNED_AT - timedelta(seconds=1)),
        (SIGNED_AT + timedelta(seconds=1), None),
    ],
    ids=["ended-before", "started-after"],
)
def test_transparency_log_key_window(
    pki: TestPKI, leaf: Leaf, payload: bytes, path: str, window: tuple[datetime, datetime | None]
) -> None:
    result = PATHS[path](pki, leaf, payload, root(pki, tlog_window=window))
    assert not result.verified and SIGNATURE_INVALID in result.rule_ids, result
    assert "transparency log key" in messages(result) and "not valid at the" in messages(result)


@pytest.mark.parametrize("path", PATHS)
def test_transparency_log_key_window_is_closed(pki: TestPKI, leaf: Leaf, payload: bytes, path: str) -> None:
    window = (datetime(2020, 1, 1, tzinfo=UTC), SIGNED_AT)
    result = PATHS[path](pki, leaf, payload, root(pki, tlog_window=window))
    assert result.verified, result.problems


@pytest.mark.parametrize("path", PATHS)
def test_ct_log_key_window(pki: TestPKI, leaf: Leaf, payload: bytes, path: str) -> None:
    # The SCT is dated T0 (when the certificate was issued); the CT key's window ends before it.
    window = (datetime(2020, 1, 1, tzinfo=UTC), T0 - timedelta(days=1))
    result = PATHS[path](pki, leaf, payload, root(pki, ct_window=window))
    assert not result.verified and SIGNATURE_INVALID in result.rule_ids, result
    assert "outside the log key's validity" in messages(result)


@pytest.mark.parametrize("path", PATHS)
def test_fulcio_ca_window(pki: TestPKI, leaf: Leaf, payload: bytes, path: str) -> None:
    window = (datetime(2020, 1, 1, tzinfo=UTC), SIGNED_AT - timedelta(minutes=1))
    result = PATHS[path](pki, leaf, payload, root(pki, ca_window=window))
    assert not result.verified and SIGNATURE_INVALID in result.rule_ids, result
    text = messages(result)
    assert "not valid in the trusted root" in text or "certificate chain does not lead to" in text


# -- real bundles: Rekor v2 (time from the timestamp authority) and TSA windows ---------------------


def conformance(case: str) -> tuple[bytes, dict[str, Any]]:
    directory = SUITE / case
    return (directory / "bundle.sigstore.json").read_bytes(), json.loads(
        (directory / "trusted_root.json").read_bytes()
    )


def tsa_time(bundle: bytes, document: dict[str, Any]) -> datetime:
    from slsalint.verify.shape import proto_bytes
    from slsalint.verify.timestamp import bundle_timestamps, verified_times

    parsed = json.loads(bundle)
    signature = proto_bytes(parsed["messageSignature"]["signature"])
    trust = TrustRoot.from_json(json.dumps(document).encode())
    (when,) = verified_times(bundle_timestamps(parsed["verificationMaterial"]), signature, trust)
    return when


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


A_TXT = "sha256:" + hashlib.sha256((SUITE / "a.txt").read_bytes()).hexdigest()


def verify_with(bundle: bytes, document: dict[str, Any]) -> Verification:
    return verify_bundle(
        bundle,
        TrustRoot.from_json(json.dumps(document).encode(), source="edited root"),
        artifact_digest=A_TXT,
    )


def test_rekor_v2_happy_path_with_its_own_root() -> None:
    bundle, document = conformance("rekor2-happy-path")
    result = verify_with(bundle, document)
    assert result.verified, result.problems
    assert result.timestamp_source == "tsa" and result.integrated_time == tsa_time(bundle, document)


@pytest.mark.parametrize("shift", [timedelta(seconds=-1), timedelta(0)], ids=["before", "exactly-at"])
def test_timestamp_authority_window_end(shift: timedelta) -> None:
    bundle, document = conformance("rekor2-happy-path")
    edited = copy.deepcopy(document)
    when = tsa_time(bundle, document)
    for authority in edited["timestampAuthorities"]:
        authority["validFor"]["end"] = rfc3339(when + shift)
    result = verify_with(bundle, edited)
    if shift:
        assert not result.verified and SIGNATURE_INVALID in result.rule_ids, result
        assert "outside the validity of its timestamp authority" in messages(result)
    else:
        assert result.verified, result.problems  # closed interval: the end itself is inside


def test_rekor_v2_log_key_window_is_judged_at_the_timestamp() -> None:
    """Rekor v2 entries carry no integrated time: the log key must be valid when the trusted
    timestamp says the signature was made."""
    bundle, document = conformance("rekor2-happy-path")
    when = tsa_time(bundle, document)
    for shift, verified in ((timedelta(seconds=-1), False), (timedelta(0), True)):
        edited = copy.deepcopy(document)
        for log in edited["tlogs"]:
            log["publicKey"]["validFor"]["end"] = rfc3339(when + shift)
        result = verify_with(bundle, edited)
        assert result.verified is verified, result.problems
        if not verified:
            assert "transparency log key" in messages(result)


def test_rekor_v1_log_key_window_on_a_real_message_signature(corpus: Path) -> None:
    """The public-good Rekor key's window, closed before the bundle's integrated time."""
    bundle = (SUITE / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()
    document = json.loads(
        (corpus / "trust-roots/sigstore-public-good.production.trusted_root.json").read_bytes()
    )
    integrated = datetime.fromtimestamp(
        int(json.loads(bundle)["verificationMaterial"]["tlogEntries"][0]["integratedTime"]), tz=UTC
    )
    assert verify_with(bundle, document).verified
    edited = copy.deepcopy(document)
    for log in edited["tlogs"]:
        log["publicKey"]["validFor"]["end"] = rfc3339(integrated - timedelta(seconds=1))
    result = verify_with(bundle, edited)
    assert not result.verified and "transparency log key" in messages(result)
    assert result.signer_verified  # the signer is still known (the key's window is the problem)
