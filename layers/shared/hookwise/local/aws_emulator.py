"""moto's server for the local stack, with DynamoDB made atomic and its per-request waste cut.

DynamoDB applies each conditional write atomically; moto's threaded server does not, so two
concurrent conditional updates of one item can both pass their conditions. The exactly-once
design relies on that atomicity (ingest marking an event queued while a worker claims it), so
DynamoDB requests are serialised here; every other service stays concurrent (SQS long polls).

moto's receive checks each message's retention by computing every queue attribute, message
counts included: a pass over the whole queue per message received. A burst of a few hundred
messages made the receives quadratic and the emulator, not the code under test, the local
stack's bottleneck. The check here reads the one attribute it needs.

The emulator is one interpreter, so its CPU bounds the whole local stack in a burst. Two more
costs per request go: moto lists its own package directory to route each request (a listdir
and ~150 isdir calls), and werkzeug formats an access log line nobody reads (stderr goes
nowhere). Together with the retention check, about a fifth of the emulator's time in a burst.

Run as `python -m hookwise.local.aws_emulator --port N`; with `--until-stdin-closes`, it exits
once its standard input reaches end of file.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from moto import backends
from moto.core.utils import unix_time
from moto.server import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Message, SQSBackend
from werkzeug.serving import WSGIRequestHandler, run_simple

DYNAMODB_TARGET = "DynamoDB_"


def atomic_dynamodb(app: Any) -> Any:
    lock = threading.Lock()

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return application


def _retained(backend: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's retention check, reading the one attribute it needs."""
    retention = backend.get_queue(queue_name).message_retention_period  # type: ignore[attr-defined]
    sent_ms = message.sent_timestamp or 0
    return sent_ms / 1000 + int(retention) > unix_time()


class _Unlogged(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """No access log: the emulator's output goes nowhere."""


def launch(port: int, seconds: float = 20) -> subprocess.Popen[bytes]:
    """The emulator in its own process, listening: sharing the handlers' interpreter (and its
    GIL) would halve their throughput and bill its work to theirs. Its standard input is a
    pipe whose write end only this process holds: however this process ends (a signal it
    cannot handle, SIGKILL included, or a crash), the emulator sees end of file and exits, so
    it never outlives the stack, port held."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", __name__, "--port", str(port), "--until-stdin-closes"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OSError(f"moto's server exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    process.kill()
    raise OSError(f"moto's server did not listen on {port} within {seconds} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="moto's server with atomic DynamoDB writes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--until-stdin-closes", action="store_true", help="exit when stdin reaches end of file"
    )
    arguments = parser.parse_args()
    if arguments.until_stdin_closes:
        threading.Thread(target=_exit_at_end_of_stdin, daemon=True, name="stdin").start()
    setattr(SQSBackend, "is_message_valid_based_on_retention_period", _retained)  # noqa: B010
    # The package's folders do not change while the server runs.
    modules = tuple(backends.list_of_moto_modules())
    setattr(backends, "list_of_moto_modules", lambda: modules)  # noqa: B010
    app = atomic_dynamodb(DomainDispatcherApplication(create_backend_app))
    run_simple(arguments.host, arguments.port, app, threaded=True, request_handler=_Unlogged)


def _exit_at_end_of_stdin() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    # Nothing to flush: the emulator's state lives in memory.
    os._exit(0)


if __name__ == "__main__":
    main()
