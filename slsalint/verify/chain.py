"""Fulcio certificate checks: chain to a CA of the trusted root, validity at the signing time,
the Sigstore profile (digital-signature key usage, code-signing extended key usage), and the
certificate's embedded SCT from a CT log of the trusted root (see :mod:`slsalint.verify.sct`).

Certificates shipped next to the signature (bundle ``x509CertificateChain``, cosign
``dev.sigstore.cosign/chain``) are only ever used as untrusted intermediates: a root inside them
is ignored, trust comes from the trusted root alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from slsalint.verify.sct import sct_problem
from slsalint.verify.trust import TrustRoot


def validity_problem(certificate: x509.Certificate, when: datetime) -> str | None:
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if start <= when <= end:
        return None
    state = "expired" if when > end else "not yet valid"
    return (
        f"signing certificate was {state} at the signing time {when.isoformat()} "
        f"(valid {start.isoformat()} .. {end.isoformat()})"
    )


def profile_problem(certificate: x509.Certificate) -> str | None:
    """The Sigstore certificate profile: digital signature + code signing usages."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "signing certificate has no key usage extension"
    if not usage.digital_signature:
        return "signing certificate key usage is not digital signature"
    try:
        extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return "signing certificate has no extended key usage extension"
    if ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        return "signing certificate extended key usage is not code signing"
    return None


def authority_window_problem(leaf: x509.Certificate, trust: TrustRoot, when: datetime) -> str | None:
    """Whether a CA that issued ``leaf`` was inside its trusted-root validity window at ``when``
    (sigstore-python checks the chain but not these windows)."""
    issuer = leaf.issuer
    for authority in trust.fulcio:
        if any(cert.subject == issuer for cert in authority.certificates) and authority.valid_for.contains(
            when
        ):
            return None
    return (
        f"the certificate authority that issued the signing certificate was not valid in the "
        f"trusted root ({trust.source}) at the signing time {when.isoformat()}"
    )


def chain_problem(
    leaf: x509.Certificate,
    trust: TrustRoot,
    when: datetime,
    *,
    untrusted: Sequence[x509.Certificate] = (),
) -> str | None:
    """Why ``leaf`` does not chain to a Fulcio CA of ``trust`` valid at ``when``, or None."""
    authorities = [ca for ca in trust.fulcio if ca.valid_for.contains(when)]
    if not authorities:
        return (
            f"certificate chain does not lead to the trusted root {trust.source}: no certificate "
            f"authority of that trusted root was valid at {when.isoformat()}"
        )
    ca_policy = ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
    )
    last = "no path"
    intermediates = [c for c in untrusted if c != leaf]
    for authority in authorities:
        verifier = (
            PolicyBuilder()
            .store(Store(list(authority.certificates)))
            .time(when)
            .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
            .build_client_verifier()
        )
        try:
            verifier.verify(leaf, intermediates)
            return None
        except (VerificationError, x509.UnsupportedGeneralNameType) as exc:
            last = str(exc)
    issuer = leaf.issuer.rfc4514_string() or "(empty)"
    return (
        f"certificate chain does not lead to the trusted root {trust.source}: the signing "
        f"certificate (issuer {issuer}) does not chain to a certificate authority of that trusted "
        f"root valid at {when.isoformat()} ({last})"
    )


def certificate_problems(
    leaf: x509.Certificate,
    trust: TrustRoot,
    when: datetime,
    *,
    untrusted: Sequence[x509.Certificate] = (),
) -> list[str]:
    """Validity at ``when``, the Sigstore profile, the chain and, once the chain verified, the
    embedded SCT — every problem found."""
    problems = []
    if (why := validity_problem(leaf, when)) is not None:
        problems.append(why)
    if (why := profile_problem(leaf)) is not None:
        problems.append(why)
    if not problems and (why := anchored_problem(leaf, trust, when, untrusted=untrusted)) is not None:
        problems.append(why)
    return problems


def anchored_problem(
    leaf: x509.Certificate,
    trust: TrustRoot,
    when: datetime,
    *,
    untrusted: Sequence[x509.Certificate] = (),
) -> str | None:
    """The chain to a Fulcio CA valid at ``when``, then the SCT against the trusted root's CT logs."""
    if (why := chain_problem(leaf, trust, when, untrusted=untrusted)) is not None:
        return why
    return sct_problem(leaf, trust, untrusted)
