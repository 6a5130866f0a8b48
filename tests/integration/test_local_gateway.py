"""The local HTTP front answers like API Gateway over a real socket: an over-limit upload gets
its 413 (not a reset connection), a bad Content-Length a 400, a function error a 500."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hookwise.local.gateway import LocalGateway

LIMIT = 64 * 1024


class Front:
    def __init__(self, ingest: Any) -> None:
        self.events: list[dict[str, Any]] = []
        self.gateway = LocalGateway(0, ingest, {}, lambda _line: None, max_body_bytes=LIMIT)
        threading.Thread(target=self.gateway.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.gateway.server.server_port}"


@pytest.fixture
def front() -> Iterator[Front]:
    def accept(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        served.events.append(event)
        return {"statusCode": 202, "body": '{"status": "accepted"}'}

    served = Front(accept)
    yield served
    served.gateway.shutdown()


@pytest.mark.parametrize("size", [LIMIT + 1, 40 * LIMIT])
def test_an_over_limit_upload_receives_the_413(front: Front, size: int) -> None:
    # Far more than the socket buffers hold: unread, it would reset the connection.
    answer = httpx.post(f"{front.url}/webhooks/github", content=b"x" * size, timeout=10)
    assert answer.status_code == 413
    assert answer.json() == {"error": "payload too large"}
    assert front.events == []


def slow_upload(chunks: int) -> Iterator[bytes]:
    # The headers are out and answered before the body follows, as on a slow uplink: a front
    # that answers and closes at once leaves these writes to hit a closed socket.
    time.sleep(0.3)
    for _ in range(chunks):
        yield b"x" * LIMIT


def test_a_client_that_sends_its_whole_body_first_still_reads_the_413(front: Front) -> None:
    # http.client (like many providers' HTTP stacks) writes the whole body before reading,
    # and raises BrokenPipeError if the server has hung up meanwhile.
    chunks = 20
    port = front.gateway.server.server_port
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        client.request(
            "POST",
            "/webhooks/github",
            body=slow_upload(chunks),
            headers={"Content-Length": str(chunks * LIMIT)},
        )
        answer = client.getresponse()
        assert answer.status == 413
    finally:
        client.close()
    assert front.events == []


def test_a_body_at_the_limit_reaches_the_function(front: Front) -> None:
    answer = httpx.post(f"{front.url}/webhooks/github", content=b"x" * LIMIT, timeout=10)
    assert answer.status_code == 202
    assert len(front.events) == 1


@pytest.mark.parametrize("declared", ["abc", "-5", "9" * 40])
def test_a_content_length_that_is_not_a_length_is_400(front: Front, declared: str) -> None:
    port = front.gateway.server.server_port
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        head = f"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n"
        client.sendall(head.encode())
        status_line = client.makefile("rb").readline()
    assert status_line.split()[1] == b"400"
    assert front.events == []


def test_a_function_error_is_a_500_not_a_dropped_connection() -> None:
    def crash(_event: dict[str, Any], _context: Any) -> dict[str, Any]:
        raise RecursionError("maximum recursion depth exceeded")

    front = Front(crash)
    try:
        answer = httpx.post(f"{front.url}/webhooks/github", content=b"{}", timeout=10)
    finally:
        front.gateway.shutdown()
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}
