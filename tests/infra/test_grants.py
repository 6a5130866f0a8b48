"""Every function's IAM policy, listed exactly: what each may do, on which resource. A new grant
(or a lost one) is a visible change to this file, reviewed with the code that needs it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from hookwise.config import load_config
from tests.conftest import CONFIG_PATH
from tests.infra.conftest import CALLBACK_ROUTE, Synth

# CloudFormation appends a hash of the construct path to each logical id: dropped, for reading.
LOGICAL_HASH = re.compile(r"[0-9A-F]{8}$")
SECRET = "arn:${Partition}:secretsmanager:${Region}:${Account}:secret:"
EVENTS = ["EventsTable", "EventsTable/index/*"]
BODIES = ["Payloads/bodies/*"]
ACTION_SECRETS = [
    f"{SECRET}hookwise/callback-{CALLBACK_ROUTE}-??????",
    f"{SECRET}hookwise/github-app-??????",
    f"{SECRET}hookwise/github-token-??????",
    f"{SECRET}hookwise/slack-bot-token-??????",
]
SOURCES = load_config(str(CONFIG_PATH)).sources
READ_SECRET = ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
XRAY = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
WORKER_TABLE = [
    "dynamodb:BatchGetItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
]
LEDGER = [
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


def grants(*pairs: tuple[list[str], list[str]]) -> set[tuple[str, str]]:
    return {
        (action, resource)
        for actions, resources in pairs
        for action in actions
        for resource in resources
    }


EXPECTED: dict[str, set[tuple[str, str]]] = {
    "Ingest": grants(
        (
            ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"],
            EVENTS,
        ),
        (["sqs:SendMessage"], ["QueuesEvents"]),
        (["s3:PutObject"], BODIES),
        # One signing secret per source in hookwise.yaml.
        (
            READ_SECRET,
            [f"SecretsSource{re.sub('[^A-Za-z0-9]', '', name)}" for name in SOURCES],
        ),
    ),
    "Worker": grants(
        (WORKER_TABLE, EVENTS),
        (["dynamodb:PutItem"], ["BatchesTable"]),
        (["sqs:SendMessage"], ["QueuesEvents", "QueuesDeadLetters"]),
        (
            [
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ReceiveMessage",
            ],
            ["QueuesEvents"],
        ),
        (["s3:GetObject"], BODIES),
        (["events:PutEvents"], ["Bus"]),
        (READ_SECRET, [*ACTION_SECRETS, "SecretsAnthropicApiKey"]),
        (
            ["bedrock:InvokeModel"],
            [
                "arn:${Partition}:bedrock:*:${Account}:inference-profile/*",
                "arn:${Partition}:bedrock:*::foundation-model/anthropic.*",
            ],
        ),
    ),
    "DlqRedrive": grants(
        (["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem"], EVENTS),
        (
            ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
            ["QueuesDeadLetters"],
        ),
        (["sqs:SendMessage"], ["QueuesEvents"]),
    ),
    "Sweeper": grants(
        (
            [
                "dynamodb:BatchGetItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
            ],
            EVENTS,
        ),
        (["sqs:SendMessage"], ["QueuesEvents"]),
    ),
    "BatchCollector": grants(
        (WORKER_TABLE, EVENTS),
        (LEDGER, ["BatchesTable"]),
        (["sqs:SendMessage"], ["QueuesEvents"]),
        (["s3:GetObject"], BODIES),
        (READ_SECRET, ["SecretsAnthropicApiKey"]),
    ),
    "BatchPoller": grants(
        (WORKER_TABLE, EVENTS),
        (LEDGER, ["BatchesTable"]),
        (["sqs:SendMessage"], ["QueuesEvents"]),
        (["s3:GetObject"], BODIES),
        (["events:PutEvents"], ["Bus"]),
        (READ_SECRET, [*ACTION_SECRETS, "SecretsAnthropicApiKey"]),
    ),
}


def readable(value: Any) -> str:
    """A policy resource as text: logical ids without their hash, pseudo parameters named."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        name = str(value["Ref"])
        if name.startswith("AWS::"):
            return "${" + name.removeprefix("AWS::").replace("AccountId", "Account") + "}"
        return LOGICAL_HASH.sub("", name)
    if "Fn::GetAtt" in value:
        return LOGICAL_HASH.sub("", value["Fn::GetAtt"][0])
    separator, parts = value["Fn::Join"]
    return str(separator).join(readable(part) for part in parts)


def allowed(synth: Synth, function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's role policy allows, X-Ray's aside."""
    policies = synth.template.find_resources("AWS::IAM::Policy")
    found: set[tuple[str, str]] = set()
    prefix = f"{function}FunctionServiceRoleDefaultPolicy"
    matched = [policy for name, policy in policies.items() if LOGICAL_HASH.sub("", name) == prefix]
    assert len(matched) == 1, function
    for statement in matched[0]["Properties"]["PolicyDocument"]["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"]
        resources = statement["Resource"]
        for action in [actions] if isinstance(actions, str) else actions:
            if action in XRAY:
                continue
            for resource in resources if isinstance(resources, list) else [resources]:
                found.add((action, readable(resource)))
    return found


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_function_is_allowed_exactly_what_its_code_calls(synth: Synth, function: str) -> None:
    assert allowed(synth, function) == EXPECTED[function]


def test_every_function_has_a_listed_policy(synth: Synth) -> None:
    functions = {
        LOGICAL_HASH.sub("", name).removesuffix("Function")
        for name in synth.template.find_resources("AWS::Lambda::Function")
    }
    assert functions == set(EXPECTED)


def test_the_worker_is_told_the_batch_table_it_may_write(synth: Synth) -> None:
    worker = next(
        resource
        for name, resource in synth.template.find_resources("AWS::Lambda::Function").items()
        if name.startswith("WorkerFunction")
    )
    variables = worker["Properties"]["Environment"]["Variables"]
    tables = synth.template.find_resources("AWS::DynamoDB::Table")
    batch_table = next(name for name in tables if name.startswith("BatchesTable"))
    assert variables["HOOKWISE_BATCH_TABLE"] == {"Ref": batch_table}
