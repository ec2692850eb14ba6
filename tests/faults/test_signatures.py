"""Fault catalogue rows for signatures: broken trusted roots, keys, bundles and certificates.

Each row runs ``slsalint check`` as a user does and asserts the exit code and the first line of
stderr, or the finding id and its message: a malformed ``--trusted-root`` is one line naming the
file and the field (exit 3: an unusable trust root is operational, SPEC §8; a file that cannot be
read at all is a usage error, exit 2); a bundle with a wrong JSON type anywhere or a certificate
with a malformed extension is SL105; none of them is ever exit 0 or exit 4.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.catalogue import Fault, assert_fault, ids, run
from tests.support import buildkit as bk
from tests.support.pki import DEFAULT_IDENTITY, DEFAULT_ISSUER, MalformedKind, TestPKI, b64

KEYLESS = ["--certificate-identity", DEFAULT_IDENTITY, "--certificate-oidc-issuer", DEFAULT_ISSUER]
ARTIFACT = b"release artifact\n"
SUBJECT = "sha256:" + hashlib.sha256(ARTIFACT).hexdigest()
PKI = TestPKI("faults-signatures")

Build = Callable[[Path], list[str]]


def _statement() -> bytes:
    return json.dumps(bk.buildkit_v02_statement(SUBJECT)).encode()


def _root(tmp: Path, edit: Callable[[dict[str, Any]], None] | None = None, text: str | None = None) -> Path:
    path = tmp / "trusted_root.json"
    if text is not None:
        path.write_text(text)
        return path
    document = PKI.trusted_root()
    if edit is not None:
        edit(document)
    path.write_text(json.dumps(document))
    return path


def _bundle_file(tmp: Path, document: dict[str, Any]) -> Path:
    path = tmp / "provenance.sigstore.json"
    path.write_text(json.dumps(document))
    return path


def with_root(edit: Callable[[dict[str, Any]], None] | None = None, text: str | None = None) -> Build:
    def build(tmp: Path) -> list[str]:
        bundle = _bundle_file(tmp, PKI.dsse_bundle(_statement(), PKI.leaf()))
        root = _root(tmp, edit, text)
        return ["--attestation", str(bundle), "--subject", SUBJECT, "--trusted-root", str(root), *KEYLESS]

    return build


def with_bundle(
    edit: Callable[[dict[str, Any]], None], *, kind: str = "dsse", leaf_kind: MalformedKind | None = None
) -> Build:
    def build(tmp: Path) -> list[str]:
        leaf = PKI.leaf(malformed=leaf_kind, key_seed=f"fault-{leaf_kind}") if leaf_kind else PKI.leaf()
        document = (
            PKI.message_bundle(ARTIFACT, leaf, version="0.3")
            if kind == "message"
            else PKI.intoto_bundle(_statement(), leaf)
            if kind == "intoto"
            else PKI.dsse_bundle(_statement(), leaf)
        )
        edit(document)
        bundle = _bundle_file(tmp, document)
        args = [
            "--attestation",
            str(bundle),
            "--subject",
            SUBJECT,
            "--trusted-root",
            str(_root(tmp)),
            *KEYLESS,
        ]
        return [*args, "--enable", "SL205", "--disable", "SL101"] if kind == "message" else args

    return build


def no_edit(document: dict[str, Any]) -> None:
    return None


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        node: Any = document
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if value is DELETE:
            del node[int(last) if last.isdigit() else last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return edit


DELETE = object()


def trusted_root_path(kind: str) -> Build:
    def build(tmp: Path) -> list[str]:
        bundle = _bundle_file(tmp, PKI.dsse_bundle(_statement(), PKI.leaf()))
        target = tmp / "root"
        if kind == "fifo":
            os.mkfifo(target)
        elif kind == "directory":
            target.mkdir()
        return ["--attestation", str(bundle), "--subject", SUBJECT, "--trusted-root", str(target), *KEYLESS]

    return build


def key_fifo(tmp: Path) -> list[str]:
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(SUBJECT))
    statement = tmp / "prov.json"
    statement.write_text(json.dumps(envelope))
    os.mkfifo(tmp / "cosign.pub")  # a named pipe must be refused, never waited on
    return ["--attestation", str(statement), "--subject", SUBJECT, "--key", str(tmp / "cosign.pub")]


def cosign_layer(annotation: str, value: str | Callable[[], str]) -> Build:
    def build(tmp: Path) -> list[str]:
        from slsalint.model import Platform
        from slsalint.sources.layout_writer import LayoutWriter

        writer = LayoutWriter(tmp / "image")
        image = bk.add_platform_image(writer, Platform("linux", "amd64"), seed="fault")
        index = bk.add_index(writer, [image], ref_name="v1")
        payload = json.dumps(bk.buildkit_v02_statement(index["digest"])).encode()
        blob, annotations = PKI.cosign_att_layer(payload, PKI.leaf())
        annotations[annotation] = value() if callable(value) else value
        layer = writer.descriptor(blob, "application/vnd.dsse.envelope.v1+json", annotations=annotations)
        config = writer.descriptor(b"{}", "application/vnd.oci.image.config.v1+json")
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config,
            "layers": [layer],
        }
        att = writer.descriptor(writer.json_bytes(manifest), "application/vnd.oci.image.manifest.v1+json")
        writer.add_entry(att, ref_name=index["digest"].replace(":", "-") + ".att")
        writer.write_index()
        return [f"oci:{tmp / 'image'}:v1", "--trusted-root", str(_root(tmp)), *KEYLESS]

    return build


def _deep_body_annotation() -> str:
    body = b64(b"[" * 100_000 + b"]" * 100_000)
    return json.dumps({"Payload": {"body": body, "integratedTime": 1, "logIndex": 1, "logID": "00" * 32}})


def _broken_pem() -> str:
    return PKI.leaf(malformed="sct", key_seed="fault-annotation").pem


MALFORMED_PARTS: tuple[MalformedKind, ...] = ("san", "key-usage", "sct")
ROWS: list[tuple[Fault, Build]] = [
    (
        Fault("trusted-root-not-json", 3, stderr=r"trusted_root\.json: trusted root is not valid JSON"),
        with_root(text="{not json"),
    ),
    (
        Fault("trusted-root-nan", 3, stderr=r"trusted_root\.json: trusted root is not valid JSON: NaN"),
        with_root(text='{"mediaType": NaN}'),
    ),
    (
        Fault(
            "trusted-root-missing-start",
            3,
            stderr=r"trusted_root\.json: tlogs\[0\]\.publicKey\.validFor\.start: missing",
        ),
        with_root(setter("tlogs.0.publicKey.validFor.start", DELETE)),
    ),
    (
        Fault(
            "trusted-root-cert-wrong-type",
            3,
            stderr=r"certificateAuthorities\[0\]\.certChain\.certificates\[0\]\.rawBytes: "
            r"expected non-empty base64",
        ),
        with_root(setter("certificateAuthorities.0.certChain.certificates.0.rawBytes", 42)),
    ),
    (
        Fault(
            "trusted-root-unknown-key-type",
            3,
            stderr=r"ctlogs\[0\]\.publicKey\.keyDetails: unknown key type 'X'",
        ),
        with_root(setter("ctlogs.0.publicKey.keyDetails", "X")),
    ),
    (
        Fault(
            "trusted-root-malformed-ca-extension",
            3,
            stderr=r"certificates\[0\]: certificate has a malformed extension",
        ),
        with_root(
            setter(
                "certificateAuthorities.0.certChain.certificates.0.rawBytes",
                b64(PKI.leaf(malformed="key-usage", key_seed="fault-ca").der),
            )
        ),
    ),
    (
        Fault("trusted-root-absent", 2, stderr=r"--trusted-root .*root: no such file"),
        trusted_root_path("absent"),
    ),
    (Fault("trusted-root-fifo", 2, stderr=r"--trusted-root .*root: is a FIFO"), trusted_root_path("fifo")),
    (
        Fault("trusted-root-directory", 2, stderr=r"--trusted-root .*root: is a directory"),
        trusted_root_path("directory"),
    ),
    (Fault("key-fifo", 2, stderr=r"--key .*cosign\.pub: cannot read key file: is a FIFO"), key_fifo),
    (
        Fault(
            "bundle-kind-as-list",
            1,
            finding="SL105",
            message=r"tlogEntries\[0\]\.kindVersion\.kind: expected a string, got an array",
        ),
        with_bundle(setter("verificationMaterial.tlogEntries.0.kindVersion.kind", ["dsse"])),
    ),
    (
        Fault(
            "bundle-log-index-object",
            1,
            finding="SL105",
            message=r"tlogEntries\[0\]\.logIndex: expected an integer",
        ),
        with_bundle(setter("verificationMaterial.tlogEntries.0.logIndex", {"value": 1})),
    ),
    (
        Fault("bundle-negative-log-index", 1, finding="SL105", message=r"logIndex: must not be negative"),
        with_bundle(setter("verificationMaterial.tlogEntries.0.logIndex", "-5"), kind="intoto"),
    ),
    (
        Fault(
            "bundle-hashes-not-a-list", 1, finding="SL105", message=r"inclusionProof\.hashes: expected a list"
        ),
        with_bundle(setter("verificationMaterial.tlogEntries.0.inclusionProof.hashes", "AAAA")),
    ),
    (
        Fault(
            "bundle-certificate-as-number",
            1,
            finding="SL105",
            message=r"verificationMaterial\.certificate: expected an object",
        ),
        with_bundle(setter("verificationMaterial.certificate", 7)),
    ),
    (
        Fault(
            "message-bundle-kind-as-list", 1, finding="SL105", message=r"kindVersion\.kind: expected a string"
        ),
        with_bundle(
            setter("verificationMaterial.tlogEntries.0.kindVersion.kind", ["hashedrekord"]), kind="message"
        ),
    ),
    (
        Fault(
            "message-bundle-signature-as-object",
            1,
            finding="SL105",
            message=r"messageSignature\.signature: expected base64",
        ),
        with_bundle(setter("messageSignature.signature", {"sig": "AAAA"}), kind="message"),
    ),
    *[
        (
            Fault(
                f"{kind}-bundle-cert-malformed-{part}",
                1,
                finding="SL105",
                message=r"has a malformed extension",
            ),
            with_bundle(no_edit, kind=kind, leaf_kind=part),
        )
        for part in MALFORMED_PARTS
        for kind in ("dsse", "intoto", "message")
    ],
    (
        Fault(
            "message-bundle-other-artifact", 1, finding="SL202", message=r"message signature is over sha256:"
        ),
        with_bundle(setter("messageSignature.messageDigest.digest", b64(b"\x01" * 32)), kind="message"),
    ),
    (
        Fault(
            "cosign-certificate-malformed-extension",
            1,
            finding="SL105",
            message=r"certificate annotation has a malformed extension",
        ),
        cosign_layer("dev.sigstore.cosign/certificate", _broken_pem),
    ),
    (
        Fault(
            "cosign-bundle-annotation-not-json",
            1,
            finding="SL105",
            message=r"cosign bundle annotation: not valid JSON: Expecting property name",
        ),
        cosign_layer("dev.sigstore.cosign/bundle", "{garbage"),
    ),
    (
        Fault(
            "cosign-bundle-annotation-too-deep",
            1,
            finding="SL105",
            message=r"cosign bundle annotation: not acceptable JSON: nested more than 64 levels",
        ),
        cosign_layer("dev.sigstore.cosign/bundle", "[" * 100_000 + "]" * 100_000),
    ),
    (
        Fault(
            "cosign-bundle-annotation-nan",
            1,
            finding="SL105",
            message=r"cosign bundle annotation: NaN is not a JSON number",
        ),
        cosign_layer("dev.sigstore.cosign/bundle", '{"Payload": {"integratedTime": NaN}}'),
    ),
    (
        Fault(
            "cosign-bundle-body-too-deep",
            1,
            finding="SL105",
            message=r"log entry body: not acceptable JSON: nested more than 64 levels",
        ),
        cosign_layer("dev.sigstore.cosign/bundle", _deep_body_annotation),
    ),
]


@pytest.mark.parametrize(("fault", "build"), ROWS, ids=ids([f for f, _ in ROWS]))
def test_signature_fault(fault: Fault, build: Build, tmp_path: Path) -> None:
    args = build(tmp_path)
    outcome = run("check", *args, "--format", "json", cwd=tmp_path)
    assert_fault(fault, outcome)
    assert outcome.code != 4 and "internal error" not in outcome.stderr


def test_rows_name_distinct_cases() -> None:
    names = [f.name for f, _ in ROWS]
    assert len(names) == len(set(names)) and len(names) >= 25
