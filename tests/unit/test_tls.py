"""The registry client's HTTPS transport (built on first use) still verifies certificates, and
its plain-HTTP transport never completes a TLS handshake."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from slsalint.sources.network import LazyTransport, NetworkTransport
from slsalint.sources.registry import RegistryClient


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate no trust store knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_https_transport_is_built_lazily_and_verifies(tls_server: int) -> None:
    with RegistryClient(retries=0) as client:
        transport = client._http._transport
        assert isinstance(transport, NetworkTransport) and not transport._routes
        assert transport._tls is None
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            client._http.get(f"https://127.0.0.1:{tls_server}/v2/")
        [route] = transport._routes  # this thread's https route, built by the request
        assert route._inner is not None and transport._tls is not None


def test_plain_http_route_refuses_tls_rather_than_trusting_it(tls_server: int) -> None:
    with RegistryClient(retries=0) as client:
        transport = client._http._transport
        assert isinstance(transport, NetworkTransport)
        plain = transport._route("http", None)
        assert isinstance(plain, LazyTransport)
        request = httpx.Request("GET", f"https://127.0.0.1:{tls_server}/v2/")
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            plain.handle_request(request)
        assert transport._tls is None  # the plain route never loads the CA bundle
