"""HTTP routes of the ingest function (API Gateway HTTP API, payload format 2.0)."""

from __future__ import annotations

import base64
import binascii
import json

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from hookwise import wiring
from hookwise.ingest.service import Reply, rejection
from hookwise.verifiers import WebhookRequest

app = APIGatewayHttpResolver()

MAX_LIST = 100


def raw_body(event: APIGatewayProxyEventV2) -> bytes | None:
    """The exact bytes the provider sent; None when they cannot be recovered (a base64 body
    that does not decode, or text holding a lone surrogate from a `\\ud800` escape)."""
    body = event.body or ""
    try:
        if not event.is_base64_encoded:
            return body.encode("utf-8", errors="surrogateescape")
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def webhook_request(event: APIGatewayProxyEventV2, source: str, body: bytes) -> WebhookRequest:
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    host = event.request_context.domain_name or headers.get("host", "localhost")
    scheme = headers.get("x-forwarded-proto", "https")
    url = f"{scheme}://{host}{event.raw_path}"
    if event.raw_query_string:
        url += f"?{event.raw_query_string}"
    return WebhookRequest(
        source=source,
        method=event.request_context.http.method,
        url=url,
        headers=headers,
        body=body,
        query=dict(event.query_string_parameters or {}),
    )


def _response(reply: Reply) -> Response:
    return Response(status_code=reply.status, content_type=reply.content_type, body=reply.body)


@app.post("/webhooks/<source>")
def receive_webhook(source: str) -> Response:
    event = app.current_event
    body = raw_body(event)
    service = wiring.ingest_service()
    if body is None:
        return _response(service.reject(source, 400, "body_undecodable"))
    return _response(service.receive(webhook_request(event, source, body)))


@app.get("/events/<event_id>")
def get_event(event_id: str) -> Response:
    record = wiring.store().get(event_id)
    if record is None:
        return _response(Reply.json(404, error="unknown event"))
    return _response(Reply(200, json.dumps(record.public_view())))


@app.get("/events")
def list_events() -> Response:
    params = app.current_event.query_string_parameters or {}
    try:
        limit = max(1, min(MAX_LIST, int(params.get("limit", "20"))))
    except ValueError:
        return _response(rejection(400))
    records = wiring.store().list_recent(limit)
    return _response(Reply(200, json.dumps({"events": [r.public_view() for r in records]})))


@app.get("/health")
def health() -> Response:
    return _response(Reply.json(200, status="ok"))
