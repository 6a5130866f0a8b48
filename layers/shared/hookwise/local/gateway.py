"""The local HTTP front: each request becomes the API Gateway HTTP API (payload 2.0) event
Lambda would receive, handed to the same ingest handler; `/_local/invoke/<function>` stands in
for `aws lambda invoke` of the other functions."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import traceback
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from hookwise.local.event_source import LambdaContext
from hookwise.local.http_handler import LocalHandler
from hookwise.resources import EVENT_ROUTE, EVENTS_ROUTE, HEALTH_ROUTE, WEBHOOK_ROUTE

Handler = Callable[[dict[str, Any], Any], Any]
TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")
JSON = {"content-type": "application/json"}
CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")
# After a 413, the upload is read and thrown away (up to this much, waiting at most this long
# for each chunk): closing with unread bytes makes the kernel reset the connection, and the
# client sees "connection reset" or "broken pipe" instead of the answer.
DISCARD_BYTES = 64 * 1024 * 1024
DISCARD_SECONDS = 10.0
# What API Gateway answers when the function raises.
FUNCTION_ERROR = b'{"message":"Internal Server Error"}'
# What API Gateway answers a request that matches no route.
NOT_FOUND = b'{"message":"Not Found"}'


def _route_pattern(route_key: str) -> tuple[str, re.Pattern[str]]:
    method, path = route_key.split(" ", 1)
    # `{name}` (escaped by re.escape as `\{name\}`) becomes a named group of one segment.
    return method, re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)))


# The deployed API's routes, and the local readiness probe.
ROUTES = {
    key: _route_pattern(key) for key in (WEBHOOK_ROUTE, EVENT_ROUTE, EVENTS_ROUTE, HEALTH_ROUTE)
}


def match_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The route API Gateway would pick, and its path parameters (decoded, as it does)."""
    for key, (route_method, pattern) in ROUTES.items():
        found = pattern.fullmatch(path)
        if found and route_method == method:
            return key, {name: unquote(value) for name, value in found.groupdict().items()}
    return None


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
    route_key, parameters = match_route(method, parts.path) or ("$default", {})
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
        "routeKey": route_key,
        **({"pathParameters": parameters} if parameters else {}),
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
            "routeKey": route_key,
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

        class Front(LocalHandler):
            def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _refuse(self, status: int, error: str) -> None:
                self.close_connection = True
                body = json.dumps({"error": error}).encode()
                self._reply(status, body, {**JSON, "connection": "close"})
                gateway._log(f"{self.command} {self.path} -> {status} {error}")

            def _discard(self, length: int) -> None:
                remaining = min(length, DISCARD_BYTES)
                self.connection.settimeout(DISCARD_SECONDS)
                try:
                    while remaining > 0 and (chunk := self.rfile.read(min(remaining, 1 << 16))):
                        remaining -= len(chunk)
                except OSError:
                    return  # the client gave up or stalled: nothing more to tell it

            def _serve(self) -> None:
                declared = (self.headers.get("content-length") or "0").strip()
                if not CONTENT_LENGTH.fullmatch(declared):
                    self._refuse(400, "malformed request")
                    return
                length = int(declared)
                if length > gateway._max_body:
                    self._refuse(413, "payload too large")
                    self._discard(length)
                    return
                body = self.rfile.read(length) if length else b""
                try:
                    self._route(body)
                except ConnectionError:
                    raise  # the client left: there is no one to answer
                except Exception:
                    # As on AWS, a function error is a 500 to the caller, not a dropped line.
                    traceback.print_exc()
                    self.close_connection = True
                    self._reply(500, FUNCTION_ERROR, JSON)
                    gateway._log(f"{self.command} {self.path} -> 500 function error")

            def _route(self, body: bytes) -> None:
                path = urlsplit(self.path).path
                if self.command == "POST" and path.startswith("/_local/invoke/"):
                    self._invoke(path.removeprefix("/_local/invoke/"), body)
                    return
                if match_route(self.command, path) is None:
                    # As API Gateway: no route, no function call.
                    self._reply(404, NOT_FOUND, JSON)
                    gateway._log(f"{self.command} {path} -> 404 no route")
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
                    self._reply(404, json.dumps({"error": f"no function {name!r}"}).encode(), JSON)
                    return
                with gateway._environments[name]:
                    result = function(json.loads(body or b"{}"), LambdaContext(name, 300, 512))
                self._reply(200, json.dumps(result).encode(), JSON)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Front

    def serve_forever(self) -> None:
        self.server.serve_forever()

    def shutdown(self) -> None:
        self.server.shutdown()
        self.server.server_close()
