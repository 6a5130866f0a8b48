"""`hookwise dlq ...` and `hookwise replay` end to end over their real transports: HTTP to a
local invoke endpoint, and boto3 `lambda.invoke` answered at the botocore edge."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from click.testing import CliRunner

from functions.dlq_redrive.handler import handler
from hookwise.cli.dlq import dlq, replay
from hookwise.domain.events import EventStatus
from tests.integration.redrive.conftest import Pipeline
from tests.loopback import QuietHandler, serving


class Context:
    function_name = "dlq_redrive"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:dlq_redrive"
    aws_request_id = "req-1"


class InvokeEndpoint(QuietHandler):
    """The local stack's `POST /_local/invoke/dlq_redrive`, in front of the real handler."""

    calls: list[dict[str, Any]] = []  # noqa: RUF012 - per-server record, reset by the fixture

    def do_POST(self) -> None:
        assert self.path == "/_local/invoke/dlq_redrive"
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(payload)
        body = json.dumps(handler(payload, Context())).encode()  # type: ignore[arg-type]
        self.answer(200, body, "application/json")


@pytest.fixture
def port(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    # The handler runs in this process: its EMF lines would land in the CLI's captured stdout.
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    InvokeEndpoint.calls = []
    with serving(InvokeEndpoint) as port:
        yield port


def run(command: Any, *args: str) -> Any:
    result = CliRunner().invoke(command, list(args), catch_exceptions=False)
    return result


def test_summary_json_has_total_and_groups(pipeline: Pipeline, port: int) -> None:
    for _ in range(3):
        pipeline.failed(error="exhausted: 500", attribute=False)
    pipeline.failed(source="stripe", event_type="charge.failed", error="schema invalid")

    result = run(dlq, "summary", "--json", "--port", str(port))

    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["total"] == 4
    assert {(g["reason"], g["count"]) for g in answer["groups"]} == {
        ("exhausted: 500", 3),
        ("schema invalid", 1),
    }


def test_summary_and_list_tables(pipeline: Pipeline, port: int) -> None:
    event_id = pipeline.failed(error="exhausted: 500")

    summary = run(dlq, "summary", "--port", str(port))
    listing = run(dlq, "list", "--port", str(port), "--source", "github")

    assert "exhausted: 500" in summary.output
    assert "1 message(s)" in summary.output
    assert event_id[:12] in listing.output
    assert InvokeEndpoint.calls[-1] == {"action": "list", "limit": 50, "source": "github"}


def test_redrive_dry_run_changes_nothing(pipeline: Pipeline, port: int) -> None:
    ids = sorted(pipeline.failed() for _ in range(3))

    result = run(dlq, "redrive", "--dry-run", "--port", str(port))

    assert result.exit_code == 0, result.output
    assert "would move 3" in result.output
    assert pipeline.dlq_ids() == ids
    assert all(pipeline.status(event_id) is EventStatus.FAILED for event_id in ids)


def test_redrive_asks_first_and_abort_changes_nothing(pipeline: Pipeline, port: int) -> None:
    pipeline.failed()

    result = CliRunner().invoke(dlq, ["redrive", "--port", str(port)], input="n\n")

    assert result.exit_code == 1
    assert "Redrive 1 message(s)" in result.output
    assert len(pipeline.dlq_ids()) == 1


def test_redrive_in_chunks_with_filters_and_limit(pipeline: Pipeline, port: int) -> None:
    ids = [pipeline.failed(error="exhausted: 500") for _ in range(7)]
    other = pipeline.failed(error="schema invalid")

    result = run(
        dlq, "redrive", "--yes", "--json", "--port", str(port),
        "--reason", "exhausted", "--chunk", "3", "--limit", "6", "--rate", "1000",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # the progress bar is on stderr
    assert answer["counts"] == {"redriven": 6}
    real_calls = [call for call in InvokeEndpoint.calls if not call.get("dry_run")]
    assert [call["limit"] for call in real_calls] == [3, 3]
    assert len(set(pipeline.main_ids())) == 6
    assert set(pipeline.dlq_ids()) == {other, *(set(ids) - set(pipeline.main_ids()))}


def test_redrive_everything_then_the_dlq_is_empty(pipeline: Pipeline, port: int) -> None:
    ids = sorted(pipeline.failed() for _ in range(5))

    result = run(dlq, "redrive", "--yes", "--port", str(port), "--chunk", "2", "--rate", "1000")
    pipeline.run_worker()

    assert result.exit_code == 0, result.output
    assert "redriven: 5" in result.output
    assert pipeline.dlq_ids() == []
    assert pipeline.model_calls == dict.fromkeys(ids, 1)


def test_replay_with_and_without_force(pipeline: Pipeline, port: int) -> None:
    event_id = pipeline.failed()
    assert run(replay, event_id, "--yes", "--port", str(port)).exit_code == 0
    pipeline.run_worker()

    refused = run(replay, event_id, "--yes", "--json", "--port", str(port))
    forced = run(replay, event_id, "--yes", "--force", "--port", str(port))
    pipeline.run_worker()

    assert json.loads(refused.output)["counts"] == {"needs_force": 1}
    assert "replayed: 1" in forced.output
    assert pipeline.model_calls == {event_id: 2}


def test_an_unreachable_local_stack_is_a_clear_error() -> None:
    result = CliRunner().invoke(dlq, ["summary", "--port", "1"])

    assert result.exit_code == 1
    assert "is `hookwise dev` running?" in result.output


def test_deployed_function_by_stack_output(pipeline: Pipeline) -> None:
    """`--stack` finds the function in the stack outputs and calls lambda.invoke."""
    pipeline.failed()
    invoked: list[str] = []

    def lambda_edge(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        # The serialised request: the function name is in the path, the payload is the body.
        invoked.append(params["url_path"].split("/")[3])
        answer = json.dumps(handler(json.loads(params["body"]), Context())).encode()  # type: ignore[arg-type]
        return AWSResponse(params["url"], 200, {}, None), {
            "StatusCode": 200,
            "Payload": StreamingBody(io.BytesIO(answer), len(answer)),
        }

    session = boto3._get_default_session()
    session.events.register("before-call.lambda.Invoke", lambda_edge)
    try:
        boto3.client("cloudformation").create_stack(
            StackName="hookwise",
            TemplateBody=json.dumps(
                {
                    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                    "Outputs": {"DlqRedriveFunctionName": {"Value": "hookwise-DlqRedrive-abc"}},
                }
            ),
        )
        result = run(dlq, "summary", "--json", "--stack", "hookwise")
    finally:
        session.events.unregister("before-call.lambda.Invoke", lambda_edge)

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == 1
    assert invoked == ["hookwise-DlqRedrive-abc"]
