"""Networks as they are, end to end on loopback: the registry and GitHub clients through a
``CONNECT`` proxy (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``, proxy
credentials), a TLS registry signed by a private CA (``--registry-ca``, ``SSL_CERT_FILE``), and an
attestation repository on another registry (``--attestation-repository`` / ``COSIGN_REPOSITORY``).
Every run is ``python -m slsalint`` in a clean environment, as a user runs it."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.faults.catalogue import Outcome, run
from tests.github.fake import Running
from tests.network.conftest import TLS_NAME, tls_ref
from tests.support import buildkit as bk
from tests.support.connect_proxy import ConnectProxyState, connect_proxy
from tests.support.images import AMD64, build
from tests.support.pki import TestPKI
from tests.support.proxy import proxy as auth_proxy
from tests.support.registry import Registry
from tests.support.tls import ServerPKI

SECRET = "pr0xy-s3cret"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def push_attested(registry: Registry, tmp_path: Path, repository: str) -> str:
    """An image whose platform carries a BuildKit provenance; its ``:v1.0.0`` reference."""
    layout, _, _ = build(tmp_path, attest={AMD64: []}, name=repository.replace("/", "-"))
    registry.push_layout(layout, repository)
    return registry.ref(repository, "v1.0.0")


def check(*args: str | Path, env: dict[str, str] | None = None) -> Outcome:
    outcome = run("check", *args, "--no-cache", "--format", "json", env=env)
    assert "Traceback" not in outcome.stderr, outcome.stderr
    return outcome


def verdict(outcome: Outcome) -> tuple[int, list[tuple[str, str, str | None]]]:
    """What a gate decides on: the exit code and each finding's rule, level and platform."""
    return outcome.code, sorted((f["ruleId"], f["level"], f.get("platform")) for f in outcome.findings())


def sources(outcome: Outcome) -> list[tuple[str, str]]:
    report = json.loads(outcome.stdout)
    return sorted(
        (a["source"]["kind"], a["source"]["location"])
        for t in report["targets"]
        for p in t["platforms"]
        for a in p["attestations"]
    )


def fallback_referrer(writer: Any, subject: dict[str, Any]) -> None:
    """An artifact-form attestation manifest whose subject is ``subject``, listed by the referrers
    fallback tag ``sha256-HEX`` (what a registry without the referrers API holds)."""
    statement = bk.buildkit_v02_statement(subject["digest"])
    referrer = bk.add_attestation_manifest(writer, subject, [statement], form="artifact")
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {k: v for k, v in referrer.items() if k in ("mediaType", "digest", "size", "artifactType")}
        ],
    }
    listing = writer.descriptor(writer.json_bytes(index), OCI_INDEX)
    writer.add_entry(listing, ref_name=subject["digest"].replace(":", "-"))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_only_tunnels(state: ConnectProxyState) -> None:
    """The proxy was asked for tunnels only: it never saw a path, an Authorization header or a
    body of the registry's or GitHub's requests."""
    assert state.forwarded() == []
    for seen in state.all():
        assert seen.method == "CONNECT", seen
        assert "authorization" not in seen.headers, seen


# -- proxies --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attested(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    return push_attested(registry, tmp_path_factory.mktemp("attested"), "net/attested")


def test_check_through_http_proxy_gives_the_direct_verdict(registry: Registry, attested: str) -> None:
    direct = check(attested)
    assert direct.code == 0, direct.stderr
    with connect_proxy() as (address, state):
        proxied = check(attested, env={"HTTP_PROXY": f"http://{address}"})
    assert verdict(proxied) == verdict(direct)
    assert sources(proxied) == sources(direct)
    assert set(state.connects()) == {registry.host}
    assert_only_tunnels(state)


@pytest.mark.parametrize("variable", ["http_proxy", "ALL_PROXY", "all_proxy"])
def test_other_proxy_variables_are_honoured(registry: Registry, attested: str, variable: str) -> None:
    with connect_proxy() as (address, state):
        outcome = check(attested, env={variable: address})  # no scheme: http://
    assert outcome.code == 0, outcome.stderr
    assert set(state.connects()) == {registry.host}


def test_lower_case_variable_wins_over_upper_case(registry: Registry, attested: str) -> None:
    with connect_proxy() as (address, state):
        outcome = check(
            attested,
            env={"http_proxy": f"http://{address}", "HTTP_PROXY": f"http://127.0.0.1:{closed_port()}"},
        )
    assert outcome.code == 0, outcome.stderr
    assert set(state.connects()) == {registry.host}


def test_https_proxy_alone_leaves_plain_http_direct(attested: str) -> None:
    with connect_proxy() as (address, state):
        outcome = check(attested, env={"HTTPS_PROXY": f"http://{address}"})
    assert outcome.code == 0, outcome.stderr
    assert state.all() == []


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("127.0.0.1", True),
        ("*", True),
        ("example.com, 127.0.0.1", True),
        ("127.0.0.0/8", True),
        ("{port}", True),
        ("{other}", False),
        ("localhost", False),  # a name never matches an address: no name is resolved
        ("example.com,.test", False),
    ],
)
def test_no_proxy(registry: Registry, attested: str, no_proxy: str, bypassed: bool) -> None:
    port = registry.host.rsplit(":", 1)[1]
    value = no_proxy.format(port=f"127.0.0.1:{port}", other=f"127.0.0.1:{closed_port()}")
    with connect_proxy() as (address, state):
        outcome = check(attested, env={"HTTP_PROXY": f"http://{address}", "NO_PROXY": value})
    assert outcome.code == 0, outcome.stderr
    assert (state.all() == []) is bypassed, state.all()


def test_proxy_down_is_exit_3_naming_the_proxy_without_its_password(attested: str) -> None:
    port = closed_port()
    outcome = check(attested, env={"HTTP_PROXY": f"http://user:{SECRET}@127.0.0.1:{port}"})
    assert outcome.code == 3, outcome.stderr
    assert f"through proxy http://***@127.0.0.1:{port} (HTTP_PROXY): proxy unreachable" in outcome.first_line
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert SECRET not in outcome.stderr + outcome.stdout and "user:" not in outcome.stderr


def test_proxy_credentials_go_to_the_proxy_only(registry: Registry, attested: str) -> None:
    with connect_proxy(credentials=("user", SECRET)) as (address, state):
        outcome = check(attested, env={"HTTP_PROXY": f"http://user:{SECRET}@{address}"})
    assert outcome.code == 0, outcome.stderr
    assert SECRET not in outcome.stderr + outcome.stdout
    expected = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()
    assert state.all() and all(s.headers["proxy-authorization"] == expected for s in state.all())
    assert set(state.connects()) == {registry.host}
    assert_only_tunnels(state)


def test_percent_encoded_proxy_credentials_are_decoded(attested: str) -> None:
    with connect_proxy(credentials=("us@r", "p:ss/w")) as (address, state):
        outcome = check(attested, env={"HTTP_PROXY": f"http://us%40r:p%3Ass%2Fw@{address}"})
    assert outcome.code == 0, outcome.stderr
    assert state.connects()


def test_proxy_refusing_credentials_is_exit_3_redacted(attested: str) -> None:
    with connect_proxy(credentials=("user", "right")) as (address, state):
        outcome = check(attested, env={"HTTP_PROXY": f"http://user:{SECRET}@{address}"})
    assert outcome.code == 3, outcome.stderr
    assert "the proxy answered HTTP 407 Proxy Authentication Required to CONNECT" in outcome.first_line
    assert f"through proxy http://***@{address} (HTTP_PROXY)" in outcome.first_line
    assert SECRET not in outcome.stderr + outcome.stdout
    assert state.connects() == []


def test_registry_credentials_never_reach_the_proxy(
    registry: Registry, attested: str, tmp_path: Path
) -> None:
    """Token auth in front of the registry (the auth proxy of tests/support/proxy.py): the Basic
    credentials and the bearer token travel inside the tunnel, never in a request to the proxy."""
    with auth_proxy(registry.base, token="t0ken-for-registry", users={"alice": "registry-pw"}) as (
        front,
        auth,
    ):
        ref = attested.replace(registry.host, front.removeprefix("http://"))
        config = tmp_path / "docker"
        config.mkdir()
        secret = base64.b64encode(b"alice:registry-pw").decode()
        (config / "config.json").write_text(
            json.dumps({"auths": {front.removeprefix("http://"): {"auth": secret}}})
        )
        with connect_proxy() as (address, state):
            outcome = check(ref, env={"HTTP_PROXY": f"http://{address}", "DOCKER_CONFIG": str(config)})
        assert outcome.code == 0, outcome.stderr
        assert any(t.authorization == f"Basic {secret}" for t in auth.token_log)
    assert state.connects()
    assert_only_tunnels(state)
    assert all(
        "registry-pw" not in json.dumps(s.headers) and secret not in json.dumps(s.headers)
        for s in state.all()
    )


# -- TLS and custom CAs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_image(tls_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> str:
    push_attested(tls_registry, tmp_path_factory.mktemp("tls-image"), "net/tls")
    return tls_ref(tls_registry, "net/tls", "v1.0.0")


def tls_proxy_env(address: str, **extra: str) -> dict[str, str]:
    return {"HTTPS_PROXY": f"http://{address}", **extra}


def test_tls_registry_with_registry_ca_passes(
    tls_registry: Registry, tls_image: str, tls_pki: ServerPKI, attested: str
) -> None:
    with connect_proxy(hosts={TLS_NAME: "127.0.0.1"}) as (address, state):
        outcome = check(tls_image, "--registry-ca", tls_pki.ca, env=tls_proxy_env(address))
    assert outcome.code == 0, outcome.stderr
    assert verdict(outcome) == verdict(check(attested))
    port = tls_registry.host.rsplit(":", 1)[1]
    assert set(state.connects()) == {f"{TLS_NAME}:{port}"}
    assert_only_tunnels(state)


def test_tls_registry_without_its_ca_is_exit_3_one_line(tls_image: str) -> None:
    with connect_proxy(hosts={TLS_NAME: "127.0.0.1"}) as (address, _):
        outcome = check(tls_image, env=tls_proxy_env(address))
    assert outcome.code == 3, outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.first_line
    assert "(a registry with a private CA: --registry-ca FILE or SSL_CERT_FILE)" in outcome.first_line


def test_tls_registry_with_ssl_cert_file_passes(tls_image: str, tls_pki: ServerPKI) -> None:
    with connect_proxy(hosts={TLS_NAME: "127.0.0.1"}) as (address, _):
        outcome = check(tls_image, env=tls_proxy_env(address, SSL_CERT_FILE=str(tls_pki.ca)))
    assert outcome.code == 0, outcome.stderr


def test_ssl_cert_file_replaces_the_store_and_registry_ca_adds_to_it(
    tls_image: str, tls_pki: ServerPKI, tmp_path: Path
) -> None:
    """SSL_CERT_FILE naming another CA replaces the store: the registry's CA is then unknown,
    unless --registry-ca adds it."""
    from tests.support.tls import server_pki

    other = server_pki(tmp_path / "other", ("elsewhere.test",))
    with connect_proxy(hosts={TLS_NAME: "127.0.0.1"}) as (address, _):
        env = tls_proxy_env(address, SSL_CERT_FILE=str(other.ca))
        refused = check(tls_image, env=env)
        added = check(tls_image, "--registry-ca", other.ca, "--registry-ca", tls_pki.ca, env=env)
    assert refused.code == 3 and "CERTIFICATE_VERIFY_FAILED" in refused.first_line
    assert added.code == 0, added.stderr


def test_ssl_cert_dir_is_honoured(tls_image: str, tls_pki: ServerPKI, tmp_path: Path) -> None:
    """An OpenSSL hashed directory (the ``c_rehash`` layout: ``<subject hash>.0``)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed (it names the hashed CA directory entry)")
    subject_hash = subprocess.run(
        [openssl, "x509", "-noout", "-subject_hash", "-in", str(tls_pki.ca)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    directory = tmp_path / "certs"
    directory.mkdir()
    (directory / f"{subject_hash}.0").write_bytes(tls_pki.ca.read_bytes())
    with connect_proxy(hosts={TLS_NAME: "127.0.0.1"}) as (address, _):
        outcome = check(tls_image, env=tls_proxy_env(address, SSL_CERT_DIR=str(directory)))
        without = check(tls_image, env=tls_proxy_env(address, SSL_CERT_DIR=str(tmp_path)))
    assert outcome.code == 0, outcome.stderr
    assert without.code == 3 and "CERTIFICATE_VERIFY_FAILED" in without.first_line


def test_github_api_through_the_proxy(
    registry: Registry, tmp_path: Path, api: Running, pki: TestPKI, trusted_root: Path
) -> None:
    from tests.github.test_github import KEYLESS, REPO, bundle, entry, github, image

    ref, index, _ = image(registry, tmp_path, "proxied")
    api.state.add(REPO, index, entry(bundle(pki, index)))
    api.state.token = "gh-t0ken"
    args = [ref, *github(api), "--trusted-root", str(trusted_root), *KEYLESS]
    direct = check(*args, env={"GITHUB_TOKEN": "gh-t0ken"})
    assert direct.code == 0, direct.stderr
    with connect_proxy() as (address, state):
        proxied = check(*args, env={"GITHUB_TOKEN": "gh-t0ken", "HTTP_PROXY": f"http://{address}"})
    assert verdict(proxied) == verdict(direct)
    assert sources(proxied) == sources(direct)
    assert api.host in state.connects() and registry.host in state.connects()
    assert_only_tunnels(state)
    assert all("gh-t0ken" not in json.dumps(s.headers) for s in state.all())


def test_github_api_proxy_down_is_exit_3_naming_it(registry: Registry, tmp_path: Path, api: Running) -> None:
    from tests.github.test_github import github, image

    ref, _, _ = image(registry, tmp_path, "proxydown")
    port = closed_port()
    outcome = check(
        ref,
        *github(api),
        env={"HTTP_PROXY": f"http://user:{SECRET}@127.0.0.1:{port}", "NO_PROXY": registry.host},
    )
    assert outcome.code == 3, outcome.stderr
    assert f"{api.host} through proxy http://***@127.0.0.1:{port} (HTTP_PROXY)" in outcome.first_line
    assert SECRET not in outcome.stderr + outcome.stdout


# -- the attestation repository on another registry -----------------------------------------------


@pytest.fixture(scope="module")
def elsewhere(
    registry: Registry, side_registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, str]:
    """An image on ``registry`` with no attestations of its own; its index's cosign ``.att`` and
    its platform's Sigstore-style referrer (fallback tag) on ``side_registry`` in ``sigs/store``.
    Returns (image reference, attestation repository)."""
    tmp = tmp_path_factory.mktemp("elsewhere")
    layout, index, platforms = build(tmp, attest={AMD64: None}, name="image")
    registry.push_layout(layout, "net/elsewhere")
    from slsalint.sources.layout_writer import LayoutWriter

    writer = LayoutWriter(tmp / "atts")
    envelope = bk.dsse_envelope(bk.buildkit_v02_statement(index["digest"]))
    bk.add_cosign_att(writer, index["digest"], [envelope], as_kind=False)
    fallback_referrer(writer, platforms[AMD64])
    writer.write_index()
    side_registry.push_layout(tmp / "atts", "sigs/store")
    return registry.ref("net/elsewhere", "v1.0.0"), f"{side_registry.host}/sigs/store"


def test_attestation_repository_on_another_registry(
    registry: Registry, side_registry: Registry, elsewhere: tuple[str, str]
) -> None:
    ref, repository = elsewhere
    missing = check(ref)
    assert missing.code == 1 and ("SL101", "error", "linux/amd64") in verdict(missing)[1]
    found = check(ref, "--attestation-repository", repository)
    assert found.code == 0, (found.stderr, found.findings())
    kinds = sources(found)
    assert len(kinds) == 2 and "cosign-att" in {kind for kind, _ in kinds}, kinds
    # Both the .att tag and the referrer (listed by the fallback tag) were read on the side registry.
    assert all(location.startswith(f"{side_registry.host}/sigs/store") for _, location in kinds), kinds


def test_cosign_repository_variable_and_the_flag_wins(
    side_registry: Registry, elsewhere: tuple[str, str], registry: Registry
) -> None:
    ref, repository = elsewhere
    from_env = check(ref, env={"COSIGN_REPOSITORY": repository})
    assert verdict(from_env) == (0, [])
    # The flag wins over the variable: the image's own registry has nothing in net/elsewhere.
    flag = check(
        ref,
        "--attestation-repository",
        f"{registry.host}/net/elsewhere",
        env={"COSIGN_REPOSITORY": repository},
    )
    assert flag.code == 1 and ("SL101", "error", "linux/amd64") in verdict(flag)[1]


def test_attestation_repository_without_a_registry_stays_on_the_image_registry(
    elsewhere: tuple[str, str],
) -> None:
    ref, _ = elsewhere
    outcome = check(ref, "--attestation-repository", "sigs/store")  # sigs/store exists on the side only
    assert outcome.code == 1 and ("SL101", "error", "linux/amd64") in verdict(outcome)[1]


def test_attestation_repository_through_the_proxy(
    side_registry: Registry, registry: Registry, elsewhere: tuple[str, str]
) -> None:
    ref, repository = elsewhere
    with connect_proxy() as (address, state):
        outcome = check(ref, env={"COSIGN_REPOSITORY": repository, "HTTP_PROXY": f"http://{address}"})
    assert verdict(outcome) == (0, [])
    assert set(state.connects()) == {registry.host, side_registry.host}


def test_fetch_from_another_registry_replays_offline(elsewhere: tuple[str, str], tmp_path: Path) -> None:
    ref, repository = elsewhere
    online = check(ref, "--attestation-repository", repository)
    fetched = run("fetch", ref, "--attestation-repository", repository, "--no-cache", "-o", tmp_path / "snap")
    assert fetched.code == 0, fetched.stderr
    offline = check(f"oci:{tmp_path / 'snap'}", "--offline")
    assert verdict(offline) == verdict(online) == (0, [])
    assert sources(offline) == sources(online)
