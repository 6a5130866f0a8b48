"""`hookwise dev` as a child process on free ports, for end-to-end tests and the benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from hookwise.local.stack import free_port

HOOKWISE = str(Path(sys.executable).with_name("hookwise"))


@dataclass(frozen=True)
class DevProcess:
    port: int
    model_port: int
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def model_url(self) -> str:
        return f"http://127.0.0.1:{self.model_port}"


@contextmanager
def dev_process(
    cwd: Path, env: Mapping[str, str], startup_seconds: float = 30, sweep_every: float = 1.0
) -> Iterator[DevProcess]:
    """Start the local stack, wait for /health, stop it afterwards."""
    port, model_port = free_port(), free_port()
    # A file, not a pipe: nobody reads a pipe while tests run, and a full one blocks the stack.
    descriptor, log_name = tempfile.mkstemp(prefix="hookwise-dev-", suffix=".log")
    child_env = {**os.environ, **env}
    with os.fdopen(descriptor, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
            [
                HOOKWISE,
                "dev",
                "--port",
                str(port),
                "--model-port",
                str(model_port),
                "--sweep-every",
                str(sweep_every),
            ],
            cwd=cwd,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    dev = DevProcess(port, model_port, Path(log_name), process)
    try:
        _wait_healthy(dev, startup_seconds)
        yield dev
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_healthy(dev: DevProcess, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{dev.url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if dev.process.poll() is not None or time.monotonic() > deadline:
            dev.process.kill()
            raise RuntimeError(f"hookwise dev did not start:\n{dev.log.read_text()}")
        time.sleep(0.1)
