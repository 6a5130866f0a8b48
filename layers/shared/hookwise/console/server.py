"""The console served by uvicorn on loopback: in the foreground (`hookwise console`) or on a
thread beside the local stack (`hookwise dev`)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from hookwise.console.app import create_app
from hookwise.console.data import ConsoleData
from hookwise.console.security import ENTRY_PARAMETER, Secrets

HOST = "127.0.0.1"
STARTUP_SECONDS = 10.0


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


@dataclass
class ConsoleServer:
    data: ConsoleData
    port: int
    keys: Secrets = field(default_factory=Secrets)

    @property
    def url(self) -> str:
        """What to open: the first request with the token sets the cookie (as Jupyter)."""
        return f"http://{HOST}:{self.port}/events?{ENTRY_PARAMETER}={self.keys.token}"

    def _server(self) -> uvicorn.Server:
        app = create_app(self.data, self.keys, self.port)
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="warning")
        return uvicorn.Server(config)

    def run(self) -> None:
        """In the foreground, until interrupted."""
        self._server().run()

    def start(self) -> ConsoleServer:
        """On a daemon thread; returns once it listens."""
        self._uvicorn = self._server()
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True, name="console")
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the console did not start on {HOST}:{self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=5)
