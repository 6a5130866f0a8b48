"""The local HTTP front: each request becomes the API Gateway HTTP API (payload 2.0) event
Lambda would receive, handed to the same ingest handler; `/_local/invoke/<function>` stands in
for `aws lambda invoke` of the other functions."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from hookwise.local.event_source import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


def gateway_event(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    host: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """What API Gateway sends Lambda: text bodies as text, anything else base64-encoded."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        # A repeated header arrives joined by commas, as API Gateway does.
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    # API Gateway adds these; the ingest service rebuilds the signed URL (Twilio) from them.
    lowered.setdefault("x-forwarded-proto", "http")
    lowered.setdefault("x-forwarded-for", source_ip)
    content_type = lowered.get("content-type", "")
    try:
        text = body.decode("utf-8")
        as_text = not body or content_type.startswith(TEXT_TYPES)
    except UnicodeDecodeError:
        as_text = False
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "queryStringParameters": dict(parse_qsl(parts.query)) or None,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": "local",
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
        },
        "body": text if as_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not as_text,
    }


class LoopbackServer(ThreadingHTTPServer):
    """A thread per connection, and a backlog deep enough for bursts of deliveries."""

    daemon_threads = True
    request_queue_size = 256


class LocalGateway:
    def __init__(
        self,
        port: int,
        ingest: Handler,
        functions: Mapping[str, Handler],
        log: Callable[[str], None],
        max_body_bytes: int,
    ) -> None:
        self._ingest = ingest
        self._functions = functions
        # One execution environment per function, as a single Lambda instance has: handlers
        # keep per-invocation state (the resolver's current event, logger keys) in globals.
        self._environments: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._log = log
        # The front refuses what API Gateway would (its payload limit is 10 MB).
        self._max_body = max_body_bytes
        self.server = LoopbackServer(("127.0.0.1", port), self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class Front(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """The stack prints its own one-line log per request."""

            def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _read_body(self) -> bytes | None:
                length = int(self.headers.get("content-length") or 0)
                if length > gateway._max_body:
                    return None
                return self.rfile.read(length) if length else b""

            def _serve(self) -> None:
                body = self._read_body()
                if body is None:
                    self.close_connection = True
                    self._reply(
                        413, b'{"error": "payload too large"}', {"content-type": "application/json"}
                    )
                    return
                path = urlsplit(self.path).path
                if self.command == "POST" and path.startswith("/_local/invoke/"):
                    self._invoke(path.removeprefix("/_local/invoke/"), body)
                    return
                host = self.headers.get("host", f"127.0.0.1:{gateway.server.server_port}")
                event = gateway_event(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    host,
                    self.client_address[0],
                )
                with gateway._environments["ingest"]:
                    answer = gateway._ingest(event, LambdaContext("ingest", 10, 512))
                payload = answer.get("body") or ""
                data = (
                    base64.b64decode(payload) if answer.get("isBase64Encoded") else payload.encode()
                )
                self._reply(answer["statusCode"], data, answer.get("headers") or {})
                gateway._log(f"{self.command} {path} -> {answer['statusCode']} {payload[:120]}")

            def _invoke(self, name: str, body: bytes) -> None:
                function = gateway._functions.get(name)
                if function is None:
                    self._reply(
                        404,
                        json.dumps({"error": f"no function {name!r}"}).encode(),
                        {"content-type": "application/json"},
                    )
                    return
                with gateway._environments[name]:
                    result = function(json.loads(body or b"{}"), LambdaContext(name, 300, 512))
                self._reply(200, json.dumps(result).encode(), {"content-type": "application/json"})

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Front

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
