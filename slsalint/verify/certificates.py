"""Loading X.509 certificates from outside (bundles, cosign annotations, DSSE envelopes, trusted
roots) so that nothing later trips over them.

``cryptography`` parses a certificate's extensions and key lazily: a certificate whose SAN, key
usage or SCT extension is malformed loads fine and raises the first time a verifier looks at it.
Every certificate slsalint reads goes through :func:`load_der` / :func:`load_pem`, which touch the
extensions, the key and the validity at once and turn any parse failure into one
:class:`CertificateError` (a one-line ``ValueError``): a malformed certificate is malformed
evidence (SL105) or an unusable trusted root (exit 3), never a crash deep inside verification.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

MAX_CERTIFICATE_BYTES = 64 * 1024
"""Largest DER certificate accepted (Fulcio leaves are ~1 KiB, CA certificates ~1-2 KiB)."""
MAX_CHAIN = 10
"""Most certificates accepted in one chain."""


class CertificateError(ValueError):
    """A certificate that cannot be used; ``str()`` is one line naming it."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] if text else type(exc).__name__


def checked(certificate: x509.Certificate, what: str) -> x509.Certificate:
    """``certificate`` after parsing everything verification reads from it (raises
    CertificateError naming ``what``)."""
    try:
        _ = certificate.extensions  # parses every extension at once
        certificate.public_key()
        _ = certificate.not_valid_before_utc, certificate.not_valid_after_utc
        _ = len(certificate.subject), len(certificate.issuer)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension) as exc:
        raise CertificateError(f"{what} has a malformed extension, name or key: {_one_line(exc)}") from None
    except x509.UnsupportedGeneralNameType as exc:
        raise CertificateError(f"{what} has an unsupported name type: {_one_line(exc)}") from None
    return certificate


def load_der(data: bytes, what: str) -> x509.Certificate:
    """A DER certificate, fully parsed (raises CertificateError)."""
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(f"{what} is {len(data)} bytes, over the {MAX_CERTIFICATE_BYTES}-byte limit")
    try:
        certificate = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(f"{what} is not a DER certificate: {_one_line(exc)}") from None
    return checked(certificate, what)


def load_pem(text: str | bytes, what: str) -> x509.Certificate:
    """One PEM certificate, fully parsed (raises CertificateError)."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if len(data) > 2 * MAX_CERTIFICATE_BYTES:
        raise CertificateError(f"{what} is {len(data)} bytes, over the limit for a certificate")
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise CertificateError(f"{what} is not a PEM certificate: {_one_line(exc)}") from None
    return checked(certificate, what)


def load_pem_chain(text: str | bytes, what: str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle, fully parsed (raises CertificateError when there is
    none, too many, or one is malformed)."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if len(data) > 2 * MAX_CERTIFICATE_BYTES * MAX_CHAIN:
        raise CertificateError(f"{what} is {len(data)} bytes, over the limit for a certificate chain")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(f"{what} is not PEM: {_one_line(exc)}") from None
    if not certificates:
        raise CertificateError(f"{what} holds no PEM certificate")
    if len(certificates) > MAX_CHAIN:
        raise CertificateError(f"{what} holds {len(certificates)} certificates (at most {MAX_CHAIN})")
    return [checked(c, f"{what} certificate {i}") for i, c in enumerate(certificates)]
