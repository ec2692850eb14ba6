"""A Sigstore-like test PKI: a Fulcio-like CA, a Rekor-like log, signers and the evidence they make.

Everything is in memory (or a tmp dir when a file is asked for) and deterministic where the
algorithms allow: keys are derived from a seed, certificates have fixed serials and validity;
only ECDSA signatures themselves are randomized.

* ``TestPKI(seed)``: root + intermediate CA, a log key (log id = SHA-256 of its DER), a CT log
  key, and the matching ``trusted_root.json`` (Sigstore trusted-root format, loadable by
  ``TrustRoot``; the CT log key is its ``ctlogs`` entry).
* ``pki.leaf(...)``: a Fulcio-like code-signing certificate (empty subject, critical SAN URI or
  e-mail, OIDC issuer in ``1.3.6.1.4.1.57264.1.1`` and ``.1.8``, GitHub claims in the legacy
  ``.1.2``-``.1.6`` and DER ``.1.9``+ extensions) with an embedded SCT (RFC 6962) from the CT
  log; ``sct=`` makes it carry none, or SCTs from an unknown log, with a bad signature, or over
  another certificate.
* ``pki.intoto_bundle(...)``: a Sigstore bundle (v0.1-v0.3) whose log entry is ``intoto/0.0.2``
  with a SET and an inclusion proof under a signed checkpoint.
* ``pki.dsse_bundle(...)`` / ``pki.message_bundle(...)``: DSSE (``dsse/0.0.1``) and message
  signature (``hashedrekord/0.0.1``) bundles, the kinds sigstore-python verifies;
  ``pki.cosign_sign_bundle(digest, leaf)``: a cosign v3 ``sign`` bundle over an image digest.
* ``pki.cosign_att_layer`` / ``pki.cosign_sig_layer``: legacy cosign layers with certificate,
  chain and Rekor bundle (SET) annotations.
* ``signing_key(kind, seed)`` / ``public_pem``: keys for keyed signing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from slsalint.envelopes import pae

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
"""When test certificates are issued (they are valid for ten minutes from then)."""
DEFAULT_IDENTITY = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_CLAIMS = {
    "github-workflow-trigger": "push",
    "github-workflow-sha": "0123456789abcdef0123456789abcdef01234567",
    "github-workflow-name": "release",
    "github-workflow-repository": "acme/app",
    "github-workflow-ref": "refs/tags/v1.2.3",
    "build-signer-uri": DEFAULT_IDENTITY,
    "runner-environment": "github-hosted",
    "source-repository-uri": "https://github.com/acme/app",
    "source-repository-ref": "refs/tags/v1.2.3",
    "build-trigger": "push",
}
_LEGACY_OIDS = {
    "github-workflow-trigger": "1.3.6.1.4.1.57264.1.2",
    "github-workflow-sha": "1.3.6.1.4.1.57264.1.3",
    "github-workflow-name": "1.3.6.1.4.1.57264.1.4",
    "github-workflow-repository": "1.3.6.1.4.1.57264.1.5",
    "github-workflow-ref": "1.3.6.1.4.1.57264.1.6",
}
_DER_OIDS = {
    "build-signer-uri": "1.3.6.1.4.1.57264.1.9",
    "build-signer-digest": "1.3.6.1.4.1.57264.1.10",
    "runner-environment": "1.3.6.1.4.1.57264.1.11",
    "source-repository-uri": "1.3.6.1.4.1.57264.1.12",
    "source-repository-digest": "1.3.6.1.4.1.57264.1.13",
    "source-repository-ref": "1.3.6.1.4.1.57264.1.14",
    "build-trigger": "1.3.6.1.4.1.57264.1.20",
}
IN_TOTO = "application/vnd.in-toto+json"

KeyKind = Literal["p256", "p384", "ed25519", "rsa"]
SctKind = Literal["valid", "unknown-log", "bad-signature", "other-certificate"]
"""An embedded SCT of a test leaf: signed by the CT log of the trusted root over this certificate,
signed by a CT log the trusted root does not list, with a signature over other bytes, or signed
by the CT log over the precertificate of another certificate."""
MalformedKind = Literal["san", "key-usage", "sct"]
"""An extension of a test leaf that carries truncated DER."""
SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

_RSA_CACHE: dict[str, rsa.RSAPrivateKey] = {}


def _scalar(seed: str, curve: ec.EllipticCurve) -> int:
    order = {"secp256r1": 2**256, "secp384r1": 2**384}[curve.name]
    material = hashlib.sha512(seed.encode()).digest()
    return int.from_bytes(material, "big") % (order - 2) + 1


def ec_key(seed: str, curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    """A deterministic EC private key (P-256 unless told otherwise)."""
    curve = curve or ec.SECP256R1()
    return ec.derive_private_key(_scalar(seed, curve), curve)


def signing_key(kind: KeyKind, seed: str = "signer") -> PrivateKey:
    """A key for keyed signing: ECDSA P-256/P-384 and Ed25519 are derived from ``seed``; RSA-2048
    is generated once per seed and process (RSA cannot be derived cheaply)."""
    if kind == "p256":
        return ec_key(seed)
    if kind == "p384":
        return ec_key(seed, ec.SECP384R1())
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())
    if seed not in _RSA_CACHE:
        _RSA_CACHE[seed] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA_CACHE[seed]


def public_pem(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_der(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: PrivateKey, data: bytes) -> bytes:
    """Sign the way cosign does: ECDSA with the curve's hash, RSA PKCS#1 v1.5/SHA-256, Ed25519."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm: hashes.HashAlgorithm = (
            hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
        )
        return key.sign(data, ec.ECDSA(algorithm))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _der_utf8(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) < 128:
        return bytes([0x0C, len(raw)]) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + raw


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "slsalint-test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def statement(
    digest_hex: str, *, name: str = "artifact", predicate_type: str = "https://slsa.dev/provenance/v1"
) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest_hex}}],
        "predicateType": predicate_type,
        "predicate": {"buildDefinition": {"buildType": "https://example.com/build/v1"}},
    }


def dsse_envelope(
    payload: bytes, key: PrivateKey, *, payload_type: str = IN_TOTO, keyid: str = ""
) -> dict[str, Any]:
    """A DSSE envelope as cosign writes it (``keyid`` empty by default)."""
    return {
        "payloadType": payload_type,
        "payload": b64(payload),
        "signatures": [{"keyid": keyid, "sig": b64(sign(key, pae(payload_type, payload)))}],
    }


# -- Merkle tree (RFC 6962) ------------------------------------------------------------------------


def _leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return _leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path of leaf ``index``, leaf to root."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*merkle_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


# -- signed certificate timestamps (RFC 6962) ---------------------------------------------------------


def _der_octet_string(data: bytes) -> bytes:
    if len(data) < 128:
        return bytes([0x04, len(data)]) + data
    size = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x04, 0x80 | len(size)]) + size + data


def sct_signed_data(timestamp_ms: int, issuer_key_hash: bytes, tbs_precertificate: bytes) -> bytes:
    """The ``digitally-signed`` input of a v1 precertificate SCT without extensions."""
    return b"".join(
        (
            b"\x00\x00",  # sct_version v1, signature_type certificate_timestamp
            timestamp_ms.to_bytes(8, "big"),
            b"\x00\x01",  # entry_type precert_entry
            issuer_key_hash,
            len(tbs_precertificate).to_bytes(3, "big"),
            tbs_precertificate,
            b"\x00\x00",  # no CtExtensions
        )
    )


def sct_bytes(log_id: bytes, timestamp_ms: int, signature: bytes) -> bytes:
    """One TLS-encoded ``SignedCertificateTimestamp`` (ECDSA with SHA-256)."""
    return b"".join(
        (
            b"\x00",  # v1
            log_id,
            timestamp_ms.to_bytes(8, "big"),
            b"\x00\x00",  # no CtExtensions
            b"\x04\x03",  # sha256, ecdsa
            len(signature).to_bytes(2, "big"),
            signature,
        )
    )


def sct_list_extension(scts: Sequence[bytes]) -> x509.UnrecognizedExtension:
    """The SCT list extension: a DER OCTET STRING around the TLS ``SignedCertificateTimestampList``."""
    items = b"".join(len(sct).to_bytes(2, "big") + sct for sct in scts)
    tls = len(items).to_bytes(2, "big") + items
    return x509.UnrecognizedExtension(SCT_LIST_OID, _der_octet_string(tls))


# -- certificates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    precertificate_tbs: bytes | None = None
    """The TBS the embedded SCTs sign: the certificate built without its SCT extension."""

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass
class TestPKI:
    """A CA and a transparency log, all derived from ``seed``."""

    __test__ = False  # not a pytest test class

    seed: str = "slsalint-test"
    ca_valid_from: datetime = datetime(2020, 1, 1, tzinfo=UTC)
    ca_valid_until: datetime = datetime(2040, 1, 1, tzinfo=UTC)
    origin: str = "rekor.test - 1234567890"
    _serial: int = field(default=100, repr=False)

    def __post_init__(self) -> None:
        self.root_key = ec_key(f"{self.seed}/root", ec.SECP384R1())
        self.intermediate_key = ec_key(f"{self.seed}/intermediate", ec.SECP384R1())
        self.log_key = ec_key(f"{self.seed}/log")
        self.log_id = hashlib.sha256(public_der(self.log_key)).digest()
        self.ct_key = ec_key(f"{self.seed}/ctlog")
        self.ct_log_id = hashlib.sha256(public_der(self.ct_key)).digest()
        self.unknown_ct_key = ec_key(f"{self.seed}/unknown-ctlog")
        self.root_cert = self._ca_cert(
            self.root_key, _name(f"{self.seed} root"), self.root_key, _name(f"{self.seed} root"), 1
        )
        self.intermediate_cert = self._ca_cert(
            self.intermediate_key,
            _name(f"{self.seed} intermediate"),
            self.root_key,
            self.root_cert.subject,
            2,
            path_length=0,
        )

    def _ca_cert(
        self,
        key: ec.EllipticCurvePrivateKey,
        subject: x509.Name,
        issuer_key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name,
        serial: int,
        *,
        path_length: int | None = 1,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(self.ca_valid_from)
            .not_valid_after(self.ca_valid_until)
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        )
        return builder.sign(issuer_key, hashes.SHA384())

    def leaf(
        self,
        *,
        identity: str = DEFAULT_IDENTITY,
        issuer: str | None = DEFAULT_ISSUER,
        claims: Mapping[str, str] | None = None,
        not_before: datetime = T0,
        lifetime: timedelta = timedelta(minutes=10),
        email: bool = False,
        key_seed: str = "leaf",
        code_signing: bool = True,
        legacy_issuer_only: bool = False,
        sct: SctKind | Sequence[SctKind] | None = "valid",
        sct_time: datetime | None = None,
        malformed: MalformedKind | None = None,
    ) -> Leaf:
        """A Fulcio-like certificate issued by the intermediate CA.

        ``sct``: the embedded SCT (a sequence embeds several, in that order; None embeds no SCT
        extension at all). ``sct_time``: the SCTs' timestamp (default ``not_before``).
        ``malformed``: that extension (``san``, ``key-usage``, ``sct``) carries truncated DER, which
        the certificate still loads with (extensions are parsed lazily).
        """
        key = ec_key(f"{self.seed}/{key_seed}/{identity}")
        self._serial += 1
        general_name: x509.GeneralName = (
            x509.RFC822Name(identity) if email else x509.UniformResourceIdentifier(identity)
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_cert.subject)
            .public_key(key.public_key())
            .serial_number(self._serial)
            .not_valid_before(not_before)
            .not_valid_after(not_before + lifetime)
            .add_extension(
                x509.UnrecognizedExtension(x509.oid.ExtensionOID.KEY_USAGE, b"\x03\x02")
                if malformed == "key-usage"
                else x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [
                        ExtendedKeyUsageOID.CODE_SIGNING
                        if code_signing
                        else ExtendedKeyUsageOID.EMAIL_PROTECTION
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.intermediate_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.UnrecognizedExtension(
                    x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x03\x86\x01"
                )
                if malformed == "san"
                else x509.SubjectAlternativeName([general_name]),
                critical=True,
            )
        )
        if issuer is not None:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), issuer.encode()),
                critical=False,
            )
            if not legacy_issuer_only:
                builder = builder.add_extension(
                    x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"), _der_utf8(issuer)),
                    critical=False,
                )
        for name, value in (DEFAULT_CLAIMS if claims is None else claims).items():
            if name in _LEGACY_OIDS:
                ext = x509.UnrecognizedExtension(ObjectIdentifier(_LEGACY_OIDS[name]), value.encode())
            else:
                ext = x509.UnrecognizedExtension(ObjectIdentifier(_DER_OIDS[name]), _der_utf8(value))
            builder = builder.add_extension(ext, critical=False)
        if sct is None:
            return Leaf(key=key, certificate=builder.sign(self.intermediate_key, hashes.SHA384()))
        kinds: Sequence[SctKind] = (sct,) if isinstance(sct, str) else sct
        # the precertificate: the same certificate without the SCT extension (which comes last)
        precertificate = builder.sign(self.intermediate_key, hashes.SHA384())
        scts = [
            self._sct(kind, precertificate.tbs_certificate_bytes, sct_time or not_before) for kind in kinds
        ]
        extension = (
            x509.UnrecognizedExtension(SCT_LIST_OID, b"\x04\x03\x00\x05\x00")
            if malformed == "sct"
            else sct_list_extension(scts)
        )
        builder = builder.add_extension(extension, critical=False)
        return Leaf(
            key=key,
            certificate=builder.sign(self.intermediate_key, hashes.SHA384()),
            precertificate_tbs=precertificate.tbs_certificate_bytes,
        )

    def _sct(self, kind: SctKind, tbs_precertificate: bytes, when: datetime) -> bytes:
        timestamp_ms = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
        issuer_key_hash = hashlib.sha256(public_der(self.intermediate_key)).digest()
        if kind == "other-certificate":
            other = self.leaf(key_seed="other-certificate", sct=None)
            tbs_precertificate = other.certificate.tbs_certificate_bytes
        data = sct_signed_data(timestamp_ms, issuer_key_hash, tbs_precertificate)
        if kind == "bad-signature":
            data += b"tampered"
        log_key = self.unknown_ct_key if kind == "unknown-log" else self.ct_key
        log_id = hashlib.sha256(public_der(log_key)).digest()
        return sct_bytes(log_id, timestamp_ms, sign(log_key, data))

    # -- trusted root ---------------------------------------------------------------------------------

    def trusted_root(
        self,
        *,
        ca_window: tuple[datetime, datetime | None] | None = None,
        ct_window: tuple[datetime, datetime | None] | None = None,
        ctlogs: bool = True,
        tlog_window: tuple[datetime, datetime | None] | None = None,
    ) -> dict[str, Any]:
        """The ``trusted_root.json`` document for this CA, transparency log and CT log.

        ``ct_window``: the CT log key's ``validFor``; ``ctlogs=False`` leaves ``ctlogs`` empty;
        ``tlog_window``: the transparency log key's ``validFor``.
        """
        start, end = ca_window or (self.ca_valid_from, None)
        valid_for: dict[str, str] = {"start": start.isoformat().replace("+00:00", "Z")}
        if end is not None:
            valid_for["end"] = end.isoformat().replace("+00:00", "Z")
        tlog_start, tlog_end = tlog_window or (datetime(2020, 1, 1, tzinfo=UTC), None)
        tlog_valid_for = {"start": tlog_start.isoformat().replace("+00:00", "Z")}
        if tlog_end is not None:
            tlog_valid_for["end"] = tlog_end.isoformat().replace("+00:00", "Z")
        log_key = {
            "rawBytes": b64(public_der(self.log_key)),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": tlog_valid_for,
        }
        log = {
            "baseUrl": "https://rekor.test",
            "hashAlgorithm": "SHA2_256",
            "publicKey": log_key,
            "logId": {"keyId": b64(self.log_id)},
        }
        ct_start, ct_end = ct_window or (datetime(2020, 1, 1, tzinfo=UTC), None)
        ct_valid_for = {"start": ct_start.isoformat().replace("+00:00", "Z")}
        if ct_end is not None:
            ct_valid_for["end"] = ct_end.isoformat().replace("+00:00", "Z")
        ct_log = {
            "baseUrl": "https://ctfe.test",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": b64(public_der(self.ct_key)),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": ct_valid_for,
            },
            "logId": {"keyId": b64(self.ct_log_id)},
        }
        chain = [self.intermediate_cert, self.root_cert]
        return {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "slsalint-test", "commonName": f"{self.seed} intermediate"},
                    "uri": "https://fulcio.test",
                    "certChain": {
                        "certificates": [
                            {"rawBytes": b64(c.public_bytes(serialization.Encoding.DER))} for c in chain
                        ]
                    },
                    "validFor": valid_for,
                }
            ],
            "ctlogs": [ct_log] if ctlogs else [],
            "timestampAuthorities": [],
        }

    def write_trusted_root(self, directory: Path, **kwargs: Any) -> Path:
        path = directory / f"{self.seed}.trusted_root.json"
        path.write_text(json.dumps(self.trusted_root(**kwargs), indent=2))
        return path

    @property
    def chain_pem(self) -> str:
        return "".join(
            c.public_bytes(serialization.Encoding.PEM).decode("ascii")
            for c in (self.intermediate_cert, self.root_cert)
        )

    # -- log evidence ------------------------------------------------------------------------------------

    def set_signature(
        self, body: bytes, integrated_time: int, log_index: int, *, log_id: bytes | None = None
    ) -> bytes:
        payload = canonical(
            {
                "body": b64(body),
                "integratedTime": integrated_time,
                "logID": (log_id or self.log_id).hex(),
                "logIndex": log_index,
            }
        )
        return sign(self.log_key, payload)

    def checkpoint(self, size: int, root: bytes) -> str:
        note = f"{self.origin}\n{size}\n{b64(root)}\nTimestamp: 1709294700000000000\n"
        hint = hashlib.sha256(public_der(self.log_key)).digest()[:4]
        signature = sign(self.log_key, note.encode())
        return f"{note}\n\u2014 {self.origin.split(' ')[0]} {b64(hint + signature)}\n"

    def tlog_entry(
        self,
        body: dict[str, Any] | bytes,
        *,
        kind: str,
        version: str,
        integrated_time: datetime = T0 + timedelta(minutes=5),
        log_index: int = 4242,
        with_set: bool = True,
        with_proof: bool = True,
        tree_size: int = 7,
    ) -> dict[str, Any]:
        """A bundle ``tlogEntries[]`` item; the entry sits at ``tree_size - 3`` in a small tree."""
        raw = body if isinstance(body, bytes) else canonical(body)
        seconds = int(integrated_time.timestamp())
        entry: dict[str, Any] = {
            "logIndex": str(log_index),
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": str(seconds),
            "canonicalizedBody": b64(raw),
        }
        if with_set:
            entry["inclusionPromise"] = {
                "signedEntryTimestamp": b64(self.set_signature(raw, seconds, log_index))
            }
        if with_proof:
            index = tree_size - 3
            leaves = [f"other entry {i}".encode() for i in range(tree_size)]
            leaves[index] = raw
            root = merkle_root(leaves)
            entry["inclusionProof"] = {
                "logIndex": str(index),
                "rootHash": b64(root),
                "treeSize": str(tree_size),
                "hashes": [b64(h) for h in merkle_path(index, leaves)],
                "checkpoint": {"envelope": self.checkpoint(tree_size, root)},
            }
        return entry

    def cosign_bundle_annotation(
        self,
        body: dict[str, Any],
        *,
        integrated_time: datetime = T0 + timedelta(minutes=5),
        log_index: int = 4242,
    ) -> str:
        """cosign's ``dev.sigstore.cosign/bundle`` annotation (SignedEntryTimestamp + Payload)."""
        raw = canonical(body)
        seconds = int(integrated_time.timestamp())
        return json.dumps(
            {
                "SignedEntryTimestamp": b64(self.set_signature(raw, seconds, log_index)),
                "Payload": {
                    "body": b64(raw),
                    "integratedTime": seconds,
                    "logIndex": log_index,
                    "logID": self.log_id.hex(),
                },
            }
        )

    # -- bundles -----------------------------------------------------------------------------------------

    def intoto_bundle(
        self,
        payload: bytes,
        leaf: Leaf,
        *,
        version: Literal["0.1", "0.2", "0.3"] = "0.3",
        body_leaf: Leaf | None = None,
        body_payload: bytes | None = None,
        **entry: Any,
    ) -> dict[str, Any]:
        """A DSSE bundle logged as ``intoto/0.0.2`` (what sigstore-python 4.x cannot verify).

        ``body_leaf`` / ``body_payload`` make the log entry record another signer or payload.
        """
        envelope = dsse_envelope(payload, leaf.key)
        recorded = body_payload if body_payload is not None else payload
        recorded_sig = envelope["signatures"][0]["sig"]
        if body_payload is not None:
            recorded_sig = dsse_envelope(body_payload, leaf.key)["signatures"][0]["sig"]
        body = {
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {
                "content": {
                    "envelope": {
                        "payloadType": IN_TOTO,
                        "signatures": [
                            {
                                "publicKey": b64((body_leaf or leaf).pem.encode()),
                                "sig": b64(recorded_sig.encode()),
                            }
                        ],
                    },
                    "hash": {"algorithm": "sha256", "value": hashlib.sha256(canonical(envelope)).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(recorded).hexdigest()},
                }
            },
        }
        return self.bundle(
            envelope, leaf, body, kind="intoto", kind_version="0.0.2", version=version, **entry
        )

    def dsse_bundle(
        self,
        payload: bytes,
        leaf: Leaf,
        *,
        version: Literal["0.1", "0.2", "0.3"] = "0.3",
        **entry: Any,
    ) -> dict[str, Any]:
        """A DSSE bundle logged as ``dsse/0.0.1`` (what actions/attest and cosign v3 write; verified
        through sigstore-python)."""
        envelope = dsse_envelope(payload, leaf.key)
        body = {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(canonical(envelope)).hexdigest(),
                },
                "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                "signatures": [
                    {"signature": envelope["signatures"][0]["sig"], "verifier": b64(leaf.pem.encode())}
                ],
            },
        }
        return self.bundle(envelope, leaf, body, kind="dsse", kind_version="0.0.1", version=version, **entry)

    def cosign_sign_bundle(self, image_digest: str, leaf: Leaf, **entry: Any) -> dict[str, Any]:
        """What ``cosign sign --new-bundle-format`` (cosign v3) writes for an image: a v0.3 DSSE
        bundle whose statement (predicate ``https://sigstore.dev/cosign/sign/v1``) names the
        image digest."""
        statement = {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha256": image_digest.removeprefix("sha256:")}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
        }
        return self.dsse_bundle(json.dumps(statement).encode(), leaf, **entry)

    def message_bundle(
        self,
        artifact: bytes,
        leaf: Leaf,
        *,
        version: Literal["0.1", "0.2", "0.3"] = "0.1",
        **entry: Any,
    ) -> dict[str, Any]:
        """A message-signature bundle (``cosign sign-blob``) logged as ``hashedrekord/0.0.1``."""
        digest = hashlib.sha256(artifact).digest()
        signature = sign(leaf.key, artifact)
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {"content": b64(signature), "publicKey": {"content": b64(leaf.pem.encode())}},
            },
        }
        document = self.bundle(
            {}, leaf, body, kind="hashedrekord", kind_version="0.0.1", version=version, **entry
        )
        del document["dsseEnvelope"]
        document["messageSignature"] = {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": b64(signature),
        }
        return document

    def bundle(
        self,
        envelope: dict[str, Any],
        leaf: Leaf,
        body: dict[str, Any],
        *,
        kind: str,
        kind_version: str,
        version: Literal["0.1", "0.2", "0.3"] = "0.3",
        **entry: Any,
    ) -> dict[str, Any]:
        material: dict[str, Any]
        if version == "0.3":
            media_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
            material = {"certificate": {"rawBytes": b64(leaf.der)}}
        else:
            media_type = f"application/vnd.dev.sigstore.bundle+json;version={version}"
            material = {"x509CertificateChain": {"certificates": [{"rawBytes": b64(leaf.der)}]}}
        material["tlogEntries"] = [self.tlog_entry(body, kind=kind, version=kind_version, **entry)]
        return {"mediaType": media_type, "verificationMaterial": material, "dsseEnvelope": envelope}

    # -- legacy cosign layers -------------------------------------------------------------------

    def cosign_att_layer(
        self,
        payload: bytes,
        leaf: Leaf,
        *,
        entry_kind: Literal["dsse", "intoto"] = "dsse",
        body_leaf: Leaf | None = None,
        **annotation: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """A cosign ``.att`` layer blob (DSSE envelope) and its descriptor annotations."""
        envelope = dsse_envelope(payload, leaf.key)
        blob = json.dumps(envelope).encode()
        signer_pem = b64((body_leaf or leaf).pem.encode())
        body: dict[str, Any]
        if entry_kind == "dsse":
            body = {
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(blob).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    "signatures": [{"signature": envelope["signatures"][0]["sig"], "verifier": signer_pem}],
                },
            }
        else:
            body = {
                "apiVersion": "0.0.1",
                "kind": "intoto",
                "spec": {
                    "content": {
                        "hash": {"algorithm": "sha256", "value": hashlib.sha256(blob).hexdigest()},
                        "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    },
                    "publicKey": signer_pem,
                },
            }
        annotations = {
            "dev.cosignproject.cosign/signature": "",
            "dev.sigstore.cosign/certificate": leaf.pem,
            "dev.sigstore.cosign/chain": self.chain_pem,
            "dev.sigstore.cosign/bundle": self.cosign_bundle_annotation(body, **annotation),
            "predicateType": "https://slsa.dev/provenance/v1",
        }
        return blob, annotations

    def cosign_sig_layer(
        self,
        image_digest: str,
        leaf: Leaf | None,
        *,
        optional: Mapping[str, str] | None = None,
        key: PrivateKey | None = None,
        reference: str = "registry.test/acme/app",
        **annotation: Any,
    ) -> tuple[bytes, dict[str, str]]:
        """A cosign ``.sig`` layer: simple-signing payload and annotations (keyless or keyed)."""
        payload = json.dumps(
            {
                "critical": {
                    "identity": {"docker-reference": reference},
                    "image": {"docker-manifest-digest": image_digest},
                    "type": "cosign container image signature",
                },
                "optional": dict(optional or {}),
            }
        ).encode()
        signer = key if key is not None else (leaf.key if leaf is not None else None)
        assert signer is not None
        signature = sign(signer, payload)
        public = b64(leaf.pem.encode()) if leaf is not None else b64(public_pem(signer))
        body = {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
                "signature": {"content": b64(signature), "publicKey": {"content": public}},
            },
        }
        annotations = {
            "dev.cosignproject.cosign/signature": b64(signature),
            "dev.sigstore.cosign/bundle": self.cosign_bundle_annotation(body, **annotation),
        }
        if leaf is not None:
            annotations["dev.sigstore.cosign/certificate"] = leaf.pem
            annotations["dev.sigstore.cosign/chain"] = self.chain_pem
        return payload, annotations
