"""HTTP routes of the ingest function (API Gateway HTTP API, payload format 2.0).

API Gateway has matched the route already: the function dispatches on the event's `routeKey`
and reads `pathParameters`, rather than matching the path again with Powertools' resolver,
whose import (every resolver, asyncio, pydantic's support) was ~50 ms of each cold start."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from hookwise import wiring
from hookwise.ingest.service import Reply, rejection
from hookwise.resources import EVENT_ROUTE, EVENTS_ROUTE, HEALTH_ROUTE, WEBHOOK_ROUTE
from hookwise.verifiers import WebhookRequest

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


def receive_webhook(event: APIGatewayProxyEventV2) -> Reply:
    source = event.path_parameters["source"]
    body = raw_body(event)
    service = wiring.ingest_service()
    if body is None:
        return service.reject(source, 400, "body_undecodable")
    return service.receive(webhook_request(event, source, body))


def get_event(event: APIGatewayProxyEventV2) -> Reply:
    record = wiring.store().get(event.path_parameters["event_id"])
    if record is None:
        return Reply.json(404, error="unknown event")
    return Reply(200, json.dumps(record.public_view()))


def list_events(event: APIGatewayProxyEventV2) -> Reply:
    params = event.query_string_parameters or {}
    try:
        limit = max(1, min(MAX_LIST, int(params.get("limit", "20"))))
    except ValueError:
        return rejection(400)
    records = wiring.store().list_recent(limit)
    return Reply(200, json.dumps({"events": [r.public_view() for r in records]}))


def health(_event: APIGatewayProxyEventV2) -> Reply:
    return Reply.json(200, status="ok")


ROUTES: dict[str, Callable[[APIGatewayProxyEventV2], Reply]] = {
    WEBHOOK_ROUTE: receive_webhook,
    EVENT_ROUTE: get_event,
    EVENTS_ROUTE: list_events,
    HEALTH_ROUTE: health,
}


def answer(raw: dict[str, Any]) -> dict[str, Any]:
    """The HTTP API's answer to one event."""
    event = APIGatewayProxyEventV2(raw)
    route = ROUTES.get(event.route_key)
    reply = route(event) if route else Reply.json(404, error="not found")
    return {
        "statusCode": reply.status,
        "headers": {"Content-Type": reply.content_type},
        "body": reply.body,
        "isBase64Encoded": False,
    }
