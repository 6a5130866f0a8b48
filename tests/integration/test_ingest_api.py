"""The ingest Lambda handler with API Gateway HTTP API (payload 2.0) events, against moto."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from functions.ingest.handler import handler
from hookwise.config import load_config
from hookwise.local.gateway import match_route
from hookwise.samples import sample_bytes
from hookwise.verifiers import verifier_for
from tests.conftest import CONFIG_PATH, TEST_SECRET, Aws

PR_BODY = sample_bytes("github", "pull_request.opened")


@dataclass
class Context:
    function_name: str = "ingest"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ingest"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def gateway_event(
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    base64_body: bool = False,
    query: str = "",
) -> dict[str, Any]:
    # The route API Gateway would have matched, as the local front finds it.
    route_key, parameters = match_route(method, path) or ("$default", {})
    return {
        "version": "2.0",
        "routeKey": route_key,
        "pathParameters": parameters or None,
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": dict(p.split("=", 1) for p in query.split("&")) if query else None,
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "requestId": "req-1",
            "routeKey": route_key,
            "stage": "$default",
            "time": "23/Nov/2026:04:00:00 +0000",
            "timeEpoch": 0,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "test",
            },
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
    }


def signed_pr_body(body: bytes, delivery: str = "api-1") -> dict[str, str]:
    signer = verifier_for(load_config(str(CONFIG_PATH)).sources["github"])
    return signer.sign(
        body, TEST_SECRET, url="", event_type="pull_request", delivery_id=delivery, timestamp=0
    )


def signed_pr(delivery: str = "api-1") -> dict[str, str]:
    return signed_pr_body(PR_BODY, delivery)


def call(event: dict[str, Any]) -> tuple[int, Any]:
    answer = handler(event, Context())
    return answer["statusCode"], json.loads(answer["body"])


def test_webhook_then_event_lookup_and_listing(aws: Aws) -> None:
    status, body = call(gateway_event("POST", "/webhooks/github", PR_BODY, signed_pr()))
    assert status == 202
    event_id = body["event_id"]

    status, event = call(gateway_event("GET", f"/events/{event_id}"))
    assert status == 200
    # No worker has claimed it yet: ingest writes nothing after the send.
    assert event["status"] == "received"
    assert event["source"] == "github"
    assert event["event_type"] == "pull_request.opened"
    assert {"attempts", "received_at", "updated_at"} <= set(event)
    assert "body" not in event

    status, listing = call(gateway_event("GET", "/events", query="limit=5"))
    assert status == 200
    assert [e["event_id"] for e in listing["events"]] == [event_id]


def test_base64_body_is_verified_on_the_decoded_bytes(aws: Aws) -> None:
    event = gateway_event("POST", "/webhooks/github", PR_BODY, signed_pr(), base64_body=True)
    assert call(event)[0] == 202


def test_undecodable_base64_body_is_400_and_stores_nothing(aws: Aws) -> None:
    event = gateway_event("POST", "/webhooks/github", b"", signed_pr())
    event["body"], event["isBase64Encoded"] = "***not base64***", True
    assert call(event)[0] == 400
    assert aws.client("dynamodb").scan(TableName=aws.settings.table)["Count"] == 0


def test_unknown_event_is_404_and_health_is_200(aws: Aws) -> None:
    assert call(gateway_event("GET", "/events/evt_nope"))[0] == 404
    # No route of ours (API Gateway would not have called the function at all).
    assert call(gateway_event("GET", "/webhooks/github")) == (404, {"error": "not found"})
    assert match_route("POST", "/webhooks/github/extra") is None
    assert call(gateway_event("GET", "/health")) == (200, {"status": "ok"})
    assert call(gateway_event("GET", "/events", query="limit=x"))[0] == 400


def rejected_records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The `Rejected` embedded-metric records Powertools printed (one JSON object a line)."""
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    return [record for record in records if "Rejected" in record]


def test_signed_body_nested_past_the_recursion_limit_is_400_and_stores_nothing(aws: Aws) -> None:
    deep = b"[" * 50_000
    status, body = call(gateway_event("POST", "/webhooks/github", deep, signed_pr_body(deep)))
    assert (status, body) == (400, {"error": "malformed request"})
    assert aws.client("dynamodb").scan(TableName=aws.settings.table)["Count"] == 0
    assert aws.messages() == []


def test_text_body_with_a_lone_surrogate_is_400_and_counted(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    event = gateway_event("POST", "/webhooks/github", b"{}", signed_pr())
    # What the runtime makes of a `\ud800` escape in the event JSON: no UTF-8 encodes it.
    event["body"] = '{"a": "\ud800"}'
    capsys.readouterr()
    assert call(event)[0] == 400
    assert aws.client("dynamodb").scan(TableName=aws.settings.table)["Count"] == 0
    assert [r["reason"] for r in rejected_records(capsys)] == ["body_undecodable"]


def test_a_rejection_is_one_rejected_metric_with_its_reason_as_a_dimension(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = {**signed_pr(), "X-Hub-Signature-256": "sha256=" + "00" * 32}
    capsys.readouterr()
    assert call(gateway_event("POST", "/webhooks/github", PR_BODY, headers))[0] == 401
    [record] = rejected_records(capsys)
    [directive] = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Hookwise"
    assert directive["Metrics"] == [{"Name": "Rejected", "Unit": "Count"}]
    assert sorted(directive["Dimensions"][0]) == ["reason", "service"]
    assert (record["reason"], record["service"], record["Rejected"]) == (
        "signature_invalid",
        "hookwise",
        [1.0],
    )
