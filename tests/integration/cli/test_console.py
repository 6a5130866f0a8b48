"""`hookwise console`: which stack it shows, read from the deployed stack's outputs (moto's
CloudFormation), and a clear error when it has none to show."""

from __future__ import annotations

import json

import boto3
import click
import pytest
from click.testing import CliRunner

from hookwise.cli.console import console, stack_environment
from tests.conftest import Aws

OUTPUTS = {
    # First, and containing "TableName": a match by part of the key would take it.
    "BatchTableName": "hookwise-events-batches",
    "TableName": "hookwise-events",
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/hookwise-queue",
    "DlqUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/hookwise-dlq",
}


def deploy(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_a_deployed_stack_is_shown_by_its_exact_outputs(aws: Aws) -> None:
    deploy("hookwise", OUTPUTS)
    assert stack_environment("hookwise") == {
        "HOOKWISE_TABLE": "hookwise-events",
        "HOOKWISE_QUEUE_URL": OUTPUTS["QueueUrl"],
        "HOOKWISE_DLQ_URL": OUTPUTS["DlqUrl"],
    }


def test_a_stack_without_the_outputs_is_a_clear_error(aws: Aws) -> None:
    deploy("other", {"ApiUrl": "https://example.com"})
    with pytest.raises(click.ClickException, match="no output DlqUrl, QueueUrl, TableName"):
        stack_environment("other")


def test_without_a_stack_or_settings_it_says_what_to_give(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOKWISE_QUEUE_URL", raising=False)
    answer = CliRunner().invoke(console, [])
    assert answer.exit_code == 1
    assert "give --stack NAME" in answer.output
