"""What the card company's client (payments.provider.ProviderClient) sends and what it makes of
each kind of answer, against a scripted HTTP server in a thread: the signed request as the
provider receives it, a document, a refusal (4xx), ProviderUnavailable for a server error, an
answer that is not JSON, a refused connection, a timeout, a URL that is not http(s), a
redirect, and TLS: a certificate nobody vouches for is refused, the one REQUESTS_CA_BUNDLE
names is accepted, as with `requests`."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from payments.provider import ProviderClient, ProviderRefused, ProviderUnavailable, verify

SECRET = "test-secret-" + "s" * 30


class Provider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[dict] = []
        # path -> (status, content type, body, seconds to wait first)
        self.answers: dict[str, tuple[int, str, bytes, float]] = {}
        self.elsewhere = ""  # where /elsewhere/… redirects to

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (the timeout) or refused the certificate

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Provider

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length else b""
        self.server.received.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        if self.path in ("/moved/api/ledger", "/elsewhere/api/ledger"):
            self.send_response(302)
            self.send_header("Location", "/api/ledger" if self.path.startswith("/moved") else self.server.elsewhere)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, kind, content, wait = self.server.answers.get(
            self.path, (200, "application/json", json.dumps({"ok": self.path}).encode(), 0.0)
        )
        time.sleep(wait)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _answer


def serve(provider: Provider) -> Iterator[Provider]:
    thread = threading.Thread(target=provider.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.shutdown()
        provider.server_close()


@pytest.fixture
def provider() -> Iterator[Provider]:
    yield from serve(Provider())


def test_a_call_is_signed_as_the_provider_checks_it_and_answers_its_document(provider):
    client = ProviderClient(provider.url + "/", SECRET)

    document = client.create_session(
        reference="R1", receipt_number="C-1", amount_yen=700, return_url="r", notify_url="n", locale="ja"
    )

    assert document == {"ok": "/api/sessions"}
    [seen] = provider.received
    assert (seen["method"], seen["path"]) == ("POST", "/api/sessions")
    assert json.loads(seen["body"]) == {
        "merchant_reference": "R1",
        "receipt_number": "C-1",
        "amount_yen": 700,
        "return_url": "r",
        "notify_url": "n",
        "locale": "ja",
    }
    assert seen["headers"]["Content-Type"] == "application/json"
    assert verify(SECRET, "POST", "/api/sessions", seen["body"], seen["headers"])


def test_a_post_without_a_document_sends_an_empty_body_and_a_get_none(provider):
    client = ProviderClient(provider.url, SECRET)

    client.void("C-1")
    client.get_receipt("C-1")

    void, receipt = provider.received
    assert (void["method"], void["path"], void["body"]) == ("POST", "/api/receipts/C-1/void", b"")
    assert void["headers"]["Content-Length"] == "0"
    assert "Content-Type" not in void["headers"]
    assert verify(SECRET, "POST", "/api/receipts/C-1/void", b"", void["headers"])
    assert (receipt["method"], receipt["path"], receipt["body"]) == ("GET", "/api/receipts/C-1", b"")
    assert "Content-Length" not in receipt["headers"]
    assert verify(SECRET, "GET", "/api/receipts/C-1", b"", receipt["headers"])


def test_a_refusal_names_its_status_and_code(provider):
    provider.answers["/api/sessions/cs_x"] = (
        404,
        "application/json",
        json.dumps({"error": "not_found", "message": "no such session"}).encode(),
        0.0,
    )

    with pytest.raises(ProviderRefused) as refused:
        ProviderClient(provider.url, SECRET).get_session("cs_x")

    assert (refused.value.status, refused.value.code) == (404, "not_found")


@pytest.mark.parametrize(
    ("status", "kind", "content", "message"),
    [
        (503, "text/plain", b"down for maintenance", "503 down for maintenance"),
        (500, "application/json", b'{"error": "internal"}', '500 {"error": "internal"}'),
        (200, "text/html", b"<p>\xe6\x9c\xac\xe6\x97\xa5</p>", "not JSON: <p>本日</p>"),
        (409, "text/html", b"<p>conflict</p>", "not JSON: <p>conflict</p>"),
    ],
)
def test_a_server_error_or_an_answer_that_is_not_json_is_unavailable(provider, status, kind, content, message):
    provider.answers["/api/ledger"] = (status, kind, content, 0.0)

    with pytest.raises(ProviderUnavailable) as unavailable:
        ProviderClient(provider.url, SECRET).ledger()

    assert str(unavailable.value) == message


def test_nobody_listening_a_timeout_or_a_url_that_is_not_http_is_unavailable(provider):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
    provider.answers["/api/ledger"] = (200, "application/json", b"{}", 2.0)

    for client in (
        ProviderClient(nobody, SECRET),
        ProviderClient(provider.url, SECRET, timeout=0.2),
        ProviderClient("ftp://127.0.0.1:9", SECRET),
        ProviderClient("127.0.0.1:9", SECRET),
        ProviderClient("http://[::1", SECRET),
    ):
        with pytest.raises(ProviderUnavailable):
            client.ledger()


def test_a_redirect_is_followed(provider):
    assert ProviderClient(provider.url + "/moved", SECRET).ledger() == {"ok": "/api/ledger"}
    assert [seen["path"] for seen in provider.received] == ["/moved/api/ledger", "/api/ledger"]


@pytest.mark.parametrize("elsewhere", ["ftp://127.0.0.1/api/ledger", "https://127.0.0.1:{closed}/api/ledger"])
def test_a_redirect_to_another_scheme_that_does_not_answer_is_unavailable(provider, elsewhere):
    # From http to https nobody answers (the https handler is there for any call), or to ftp:
    # no answer, never a crash.
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        provider.elsewhere = elsewhere.format(closed=unused.getsockname()[1])
    with pytest.raises(ProviderUnavailable):
        ProviderClient(provider.url + "/elsewhere", SECRET).ledger()


@pytest.fixture
def tls_provider(tmp_path: Path) -> Iterator[tuple[Provider, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    provider = Provider()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    provider.socket = context.wrap_socket(provider.socket, server_side=True)
    for served in serve(provider):
        yield served, cert


def test_tls_certificates_are_checked_against_the_bundle(tls_provider, monkeypatch):
    provider, cert = tls_provider
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(ProviderUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        ProviderClient(provider.url, SECRET).ledger()

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    assert ProviderClient(provider.url, SECRET).ledger() == {"ok": "/api/ledger"}
