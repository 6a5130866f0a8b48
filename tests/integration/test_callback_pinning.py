"""Callbacks connect to the address that was checked: a DNS answer that changes between the
check and the connect (rebinding) cannot steer the POST elsewhere, and TLS still verifies the
URL's own host name."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hookwise.adapters.secrets.secretsmanager import SecretsManagerProvider
from hookwise.config import Route
from hookwise.deliveries.callback import CallbackSender
from hookwise.domain.events import EventRecord
from hookwise.local.gateway import LoopbackServer
from tests.loopback import QuietHandler

HOST = "callback.test"
CHECKED, REBOUND = "127.0.0.1", "127.0.0.2"
real_getaddrinfo = socket.getaddrinfo


class Target:
    """A callback server on one loopback address, recording what reached it."""

    def __init__(self, address: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, str]] = []
        self.server_names: list[str | None] = []
        target = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                target.requests.append({k.lower(): v for k, v in self.headers.items()})
                self.answer(204)

        self.server = LoopbackServer((address, port), Handler)
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class RebindingResolver:
    """DNS for HOST that answers the checked address once, then a different one."""

    def __init__(self) -> None:
        self.answers = [CHECKED]
        self.calls = 0

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != HOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        self.calls += 1
        address = self.answers.pop(0) if self.answers else REBOUND
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> RebindingResolver:
    """Injected into the sender, and answering any other lookup of HOST in this process (an
    HTTP client resolving the name again at connect time would get the rebound answer)."""
    rebinding = RebindingResolver()
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("HOOKWISE_SECRET_CALLBACK_PINNED", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    return rebinding


def route(url: str) -> Route:
    return Route.model_validate(
        {
            "name": "pinned",
            "match": {"source": "github"},
            "system": "s",
            "output": "o",
            "deliveries": {"callback_url": url},
        }
    )


RECORD = EventRecord(
    event_id="evt_1", source="github", event_type="push", received_at="t", updated_at="t"
)


@pytest.fixture
def targets() -> Iterator[tuple[Target, Target]]:
    checked = Target(CHECKED, 0)
    rebound = Target(REBOUND, checked.port)
    yield checked, rebound
    checked.server.shutdown()
    rebound.server.shutdown()


def test_the_post_goes_to_the_checked_address_not_a_rebound_one(
    resolver: RebindingResolver, targets: tuple[Target, Target]
) -> None:
    checked, rebound = targets
    sender = CallbackSender(SecretsManagerProvider(), allow_private=True, resolve=resolver)
    sender.send(RECORD, route(f"http://{HOST}:{checked.port}/hooks"))
    assert len(checked.requests) == 1
    assert rebound.requests == []
    assert resolver.calls == 1
    assert checked.requests[0]["host"] == f"{HOST}:{checked.port}"


def certificate_for(host: str, folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_to_the_pinned_address_verifies_the_url_host(
    resolver: RebindingResolver, tmp_path: Path
) -> None:
    cert, key = certificate_for(HOST, tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    target = Target(CHECKED, 0, tls=server_tls)
    # The client trusts only this certificate, which names HOST and not the address.
    client = httpx.Client(verify=ssl.create_default_context(cafile=str(cert)))
    sender = CallbackSender(
        SecretsManagerProvider(), allow_private=True, resolve=resolver, client=client
    )
    try:
        sender.send(RECORD, route(f"https://{HOST}:{target.port}/hooks"))
    finally:
        target.server.shutdown()
    assert len(target.requests) == 1
    assert target.server_names == [HOST]
    assert target.requests[0]["host"] == f"{HOST}:{target.port}"
