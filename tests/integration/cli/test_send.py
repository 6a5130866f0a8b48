"""`hookwise send` over real HTTP to loopback fakes: where it posts, and what it prints when the
server refuses a body or resets the connection."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hookwise.cli.send import INGEST_BODY_LIMIT, send
from hookwise.config import load_config
from hookwise.worker.routing import route_for
from tests.conftest import CONFIG_PATH
from tests.loopback import QuietHandler, serving


class Recorder(QuietHandler):
    """Answers 202 to every POST and remembers where each went and what it carried."""

    paths: list[str] = []  # noqa: RUF012 - reset by the fixture
    received: list[tuple[dict[str, str], bytes]] = []  # noqa: RUF012 - reset by the fixture

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.paths.append(self.path)
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.answer(202, b'{"status": "accepted"}')


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.paths = []
    Recorder.received = []
    with serving(Recorder) as port:
        yield f"http://127.0.0.1:{port}"


def resetting_server(answer: bytes) -> Callable[[], str]:
    """A front that reads only the request head, writes `answer` (maybe nothing) and resets the
    connection without reading the body, as a server refusing an oversized body may."""

    def start() -> str:
        listener = socket.create_server(("127.0.0.1", 0))

        def serve() -> None:
            with listener:
                while True:
                    connection, _ = listener.accept()
                    connection.recv(4096)
                    connection.sendall(answer)
                    # Linger 0: close with a reset, the remaining body unread.
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    connection.close()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/webhooks/github"

    return start


def run(*args: str) -> Result:
    return CliRunner().invoke(send, [*args, "--config", str(CONFIG_PATH)])


@pytest.mark.parametrize(
    ("given", "posted_to"),
    [
        ("", "/webhooks/github"),
        ("/", "/webhooks/github"),
        ("/prod", "/prod/webhooks/github"),
        ("/prod/webhooks", "/prod/webhooks/github"),
        ("/webhooks/github", "/webhooks/github"),
        ("/prod/webhooks/github?trace=1", "/prod/webhooks/github?trace=1"),
    ],
)
def test_a_base_url_gets_the_webhook_path_of_the_source(
    recorder: str, given: str, posted_to: str
) -> None:
    result = run("github", "ping", "--url", recorder + given)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("202 ")
    assert Recorder.paths == [posted_to]


def test_without_an_event_the_first_sample_a_route_handles_is_sent(recorder: str) -> None:
    # The first GitHub sample by name (issue_comment.created) has no route: it would be skipped.
    result = run("github", "--url", recorder)
    assert result.exit_code == 0, result.output
    [(headers, body)] = Recorder.received
    payload = json.loads(body)
    event_type = f"{headers['x-github-event']}.{payload['action']}"
    assert route_for(load_config(str(CONFIG_PATH)), "github", event_type, payload) is not None


@pytest.fixture
def oversized(tmp_path: Path) -> Path:
    body = tmp_path / "big.json"
    body.write_bytes(b'{"pad": "' + b"x" * (INGEST_BODY_LIMIT * 4) + b'"}')
    return body


def test_an_oversized_body_refused_with_413_prints_the_answer(oversized: Path) -> None:
    url = resetting_server(
        b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: application/json\r\n"
        b'content-length: 30\r\nconnection: close\r\n\r\n{"error": "payload too large"}'
    )()
    result = run("github", "push", "--file", str(oversized), "--url", url)
    assert result.exit_code == 0, result.output
    assert result.output.startswith('413 {"error": "payload too large"}')
    assert result.exception is None


def test_a_reset_without_answer_is_explained_not_a_traceback(oversized: Path) -> None:
    url = resetting_server(b"")()
    result = run("github", "push", "--file", str(oversized), "--url", url)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a crash
    assert "closed the connection without an answer" in result.output
    assert "too large (413)" in result.output


def test_nothing_listening_says_so(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = run("github", "ping", "--port", str(port))
    assert result.exit_code == 1
    assert "is `hookwise dev` running?" in result.output
