"""moto's server for the local stack, with DynamoDB made atomic.

DynamoDB applies each conditional write atomically; moto's threaded server does not, so two
concurrent conditional updates of one item can both pass their conditions. The exactly-once
design relies on that atomicity (ingest marking an event queued while a worker claims it), so
DynamoDB requests are serialised here; every other service stays concurrent (SQS long polls).

Run as `python -m hookwise.local.aws_emulator --port N`.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

DYNAMODB_TARGET = "DynamoDB_"


def atomic_dynamodb(app: Any) -> Any:
    lock = threading.Lock()

    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET):
            with lock:
                return list(app(environ, start_response))
        return app(environ, start_response)

    return application


def launch(port: int, seconds: float = 20) -> subprocess.Popen[bytes]:
    """The emulator in its own process, listening: sharing the handlers' interpreter (and its
    GIL) would halve their throughput and bill its work to theirs."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", __name__, "--port", str(port)],
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
    arguments = parser.parse_args()
    app = atomic_dynamodb(DomainDispatcherApplication(create_backend_app))
    run_simple(arguments.host, arguments.port, app, threaded=True)


if __name__ == "__main__":
    main()
