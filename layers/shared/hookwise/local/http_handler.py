"""What every local HTTP server's handler shares (the gateway's front, the offline model, the
provider fakes).

Keep-alive HTTP/1.1, as the real services speak it. Nagle's algorithm off: http.server sends a
reply's headers and its body in two writes, and on a kept-alive connection the body waited for
the client's delayed ACK of the headers, about 40 ms a reply (every PR comment posted to the
GitHub fake took 44 ms; a GET without a body, 2)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class LocalHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: each server keeps or prints its own record of what it served."""
