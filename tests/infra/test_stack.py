"""The synthesized stack, asserted: what the design promises is what CloudFormation gets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from hookwise.cli.console import STACK_SETTINGS
from hookwise.config import load_config
from hookwise.resources import (
    DLQ_REDRIVE_FUNCTION,
    INGEST_FUNCTION,
    QUEUES,
    STATUS_INDEX,
    STATUS_INDEX_INCLUDES,
    STUCK_INDEX,
    SWEEPER_FUNCTION,
    WORKER_FUNCTION,
)
from hookwise.settings import Settings
from infra.alarms import REJECTED_BY_REASON, REJECTED_TOTAL, REJECTIONS_THRESHOLD
from infra.limits import FloodLimits
from tests.conftest import CONFIG_PATH
from tests.infra.conftest import Synth

FUNCTIONS = {
    "ingest": INGEST_FUNCTION,
    "worker": WORKER_FUNCTION,
    "dlq_redrive": DLQ_REDRIVE_FUNCTION,
    "sweeper": SWEEPER_FUNCTION,
}


def function_named(synth: Synth, prefix: str) -> tuple[str, dict[str, Any]]:
    found = [
        (n, r) for n, r in synth.resources("AWS::Lambda::Function").items() if n.startswith(prefix)
    ]
    assert len(found) == 1, (prefix, [n for n, _ in found])
    return found[0]


def test_events_table_is_on_demand_with_ttl_pitr_and_its_indexes(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "GlobalSecondaryIndexes": [
                Match.object_like({"IndexName": STUCK_INDEX}),
                Match.object_like(
                    {
                        "IndexName": STATUS_INDEX,
                        "KeySchema": [
                            {"AttributeName": "status", "KeyType": "HASH"},
                            {"AttributeName": "received_at", "KeyType": "RANGE"},
                        ],
                        "Projection": {
                            "ProjectionType": "INCLUDE",
                            "NonKeyAttributes": list(STATUS_INDEX_INCLUDES),
                        },
                    }
                ),
            ],
        },
    )


def test_queues_are_encrypted_tls_only_with_a_long_lived_dlq(synth: Synth) -> None:
    queues = synth.resources("AWS::SQS::Queue")
    assert len(queues) == 2
    main = next(q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"])
    dlq = next(q["Properties"] for q in queues.values() if "RedrivePolicy" not in q["Properties"])
    assert main["VisibilityTimeout"] >= 6 * WORKER_FUNCTION.timeout_seconds
    # The redrive policy is only the crash backstop: above the worker's own failure budget,
    # so real failures are parked by the worker with their reason (deferrals never count).
    assert main["RedrivePolicy"]["maxReceiveCount"] > Settings().max_failures
    assert dlq["MessageRetentionPeriod"] > main["MessageRetentionPeriod"]
    assert main["SqsManagedSseEnabled"] is True
    assert dlq["SqsManagedSseEnabled"] is True
    policies = synth.resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_payload_bucket_is_private_encrypted_tls_only_and_expires_with_the_table(
    synth: Synth,
) -> None:
    ttl_days = 30
    synth.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.any_value(),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": ttl_days, "Status": "Enabled"})]
            },
            "LoggingConfiguration": Match.any_value(),
        },
    )


@pytest.mark.parametrize("folder", sorted(FUNCTIONS))
def test_functions_are_arm64_current_python_with_both_layers(synth: Synth, folder: str) -> None:
    prefix = {
        "ingest": "Ingest",
        "worker": "Worker",
        "dlq_redrive": "DlqRedrive",
        "sweeper": "Sweeper",
    }[folder]
    _, function = function_named(synth, f"{prefix}Function")
    props = function["Properties"]
    spec = FUNCTIONS[folder]
    assert props["Architectures"] == ["arm64"]
    assert props["Runtime"] == "python3.14"
    assert props["Handler"] == "handler.handler"
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    assert len(props["Layers"]) == 2
    assert props["TracingConfig"] == {"Mode": "Active"}
    # Lambda's START/END/REPORT lines are not ingested (they cost log bytes every call).
    assert {k: v for k, v in props["LoggingConfig"].items() if k != "LogGroup"} == {
        "LogFormat": "JSON",
        "SystemLogLevel": "WARN",
        "ApplicationLogLevel": "INFO",
    }
    env = props["Environment"]["Variables"]
    assert env["HOOKWISE_CONFIG"] == "/opt/hookwise.yaml"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Hookwise"
    assert {"HOOKWISE_TABLE", "HOOKWISE_QUEUE_URL", "HOOKWISE_DLQ_URL"} <= set(env)


def test_worker_reads_sqs_with_partial_batch_responses_and_bounded_concurrency(
    synth: Synth,
) -> None:
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": QUEUES.batch_size,
            "ScalingConfig": {"MaximumConcurrency": QUEUES.max_concurrency},
            "MaximumBatchingWindowInSeconds": QUEUES.max_batching_window_seconds,
        },
    )


def test_webhooks_are_open_and_events_are_iam_authorised(synth: Synth) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"].get("AuthorizationType", "NONE")
        for r in synth.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert routes == {
        "POST /webhooks/{source}": "NONE",
        "GET /events": "AWS_IAM",
        "GET /events/{event_id}": "AWS_IAM",
    }
    stages = synth.resources("AWS::ApiGatewayV2::Stage")
    assert all("AccessLogSettings" in s["Properties"] for s in stages.values())


def test_the_webhook_stage_is_throttled_at_the_flood_limits(synth: Synth) -> None:
    limits = FloodLimits()
    stages = list(synth.resources("AWS::ApiGatewayV2::Stage").values())
    assert len(stages) == 1
    props = stages[0]["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": limits.api_rate,
        "ThrottlingBurstLimit": limits.api_burst,
    }
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]


def test_ingest_alone_has_a_concurrency_ceiling(synth: Synth) -> None:
    reserved = {
        name: f["Properties"].get("ReservedConcurrentExecutions")
        for name, f in synth.resources("AWS::Lambda::Function").items()
    }
    ingest = function_named(synth, "IngestFunction")[0]
    assert reserved.pop(ingest) == FloodLimits().ingest_concurrency
    # The batch collector and poller hold one each: one run at a time (hookwise/batches).
    for batch_function in ("BatchCollectorFunction", "BatchPollerFunction"):
        assert reserved.pop(function_named(synth, batch_function)[0]) == 1
    # The others draw on the unreserved pool that ingest can no longer exhaust (the worker
    # takes at most its event source's maximum concurrency from it).
    assert set(reserved.values()) == {None}


def test_flood_limits_come_from_context_as_cdk_passes_them() -> None:
    app = cdk.App(context={"api_rate": "7.5", "api_burst": "15", "ingest_concurrency": 3})
    assert FloodLimits.from_context(app.node) == FloodLimits(7.5, 15, 3)
    assert FloodLimits.from_context(cdk.App().node) == FloodLimits()
    for wrong in ({"api_rate": "fast"}, {"api_burst": "0"}, {"ingest_concurrency": "-1"}):
        with pytest.raises(ValueError, match=next(iter(wrong))):
            FloodLimits.from_context(cdk.App(context=wrong).node)


def test_sweeper_runs_every_minute(synth: Synth) -> None:
    sweeper, _ = function_named(synth, "SweeperFunction")
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [sweeper, "Arn"]}})],
        },
    )


def test_one_secret_per_source_and_one_for_the_api_key(synth: Synth) -> None:
    names = {
        s["Properties"]["Name"] for s in synth.resources("AWS::SecretsManager::Secret").values()
    }
    sources = load_config(str(CONFIG_PATH)).sources
    assert names == {f"hookwise/{name}" for name in sources} | {"hookwise/anthropic-api-key"}


ALARMS = {
    "DlqNotEmpty": ("ApproximateNumberOfMessagesVisible", 1),
    "OldestMessageAge": ("ApproximateAgeOfOldestMessage", 600),
    "Ingest5xx": ("5xx", 5),
    "IngestErrors": ("Errors", 1),
    "WorkerErrors": ("Errors", 1),
    "IngestThrottles": ("Throttles", 1),
    "WorkerThrottles": ("Throttles", 1),
    "StuckInReceived": ("StuckEvents", 1),
    # Construct ids lose their punctuation in logical ids.
    "Budgetroutegithubissuetriage": ("BudgetUsedPercent", 80),
}


@pytest.mark.parametrize("name", sorted(ALARMS))
def test_alarm_watches_its_metric_and_pages_the_topic(synth: Synth, name: str) -> None:
    metric, threshold = ALARMS[name]
    alarms = {
        n: a
        for n, a in synth.resources("AWS::CloudWatch::Alarm").items()
        if n.startswith(f"Alarms{name}")
    }
    assert len(alarms) == 1, list(synth.resources("AWS::CloudWatch::Alarm"))
    props = next(iter(alarms.values()))["Properties"]
    assert props["MetricName"] == metric
    assert props["Threshold"] == threshold
    assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    topic = next(iter(synth.resources("AWS::SNS::Topic")))
    assert props["AlarmActions"] == [{"Ref": topic}]


def test_rejections_alarm_sums_the_rejected_metric_over_every_reason(synth: Synth) -> None:
    alarms = [
        a["Properties"]
        for n, a in synth.resources("AWS::CloudWatch::Alarm").items()
        if n.startswith("AlarmsRejections")
    ]
    assert len(alarms) == 1
    [query] = alarms[0]["Metrics"]
    assert query["Expression"] == REJECTED_TOTAL
    assert "SUM(Rejected)" in query["Expression"]
    assert "reason" in query["Expression"]
    assert query["Period"] == 300
    assert alarms[0]["Threshold"] == REJECTIONS_THRESHOLD
    topic = next(iter(synth.resources("AWS::SNS::Topic")))
    assert alarms[0]["AlarmActions"] == [{"Ref": topic}]


def test_alarm_topic_has_the_subscription_from_context(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"}
    )


def test_dashboard_shows_ingest_queue_model_tokens_and_cost(synth: Synth) -> None:
    dashboard = next(iter(synth.resources("AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for shown in (
        "Ingest rate",
        "Ingest latency",
        "Queue depth",
        "ModelLatency",
        "InputTokens",
        "CacheReadTokens",
        "CostUSD",
        "ApproximateAgeOfOldestMessage",
        "Governor: deferrals and time waited",
        "Deferred",
        "DeferredSeconds",
        "TokensReserved",
        "TokensUsed",
        "Rejected by reason",
    ):
        assert shown in body, shown
    # The dashboard body is JSON inside a CloudFormation string: quotes arrive escaped twice.
    assert json.dumps(json.dumps(REJECTED_BY_REASON))[2:-2] in body


def test_every_budget_alarms_at_80_percent_of_its_scope(synth: Synth) -> None:
    scopes = set(load_config(str(CONFIG_PATH)).budgets())
    assert scopes, "the shipped config shows a budget"
    watched = {
        dimension["Value"]
        for alarm in synth.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "BudgetUsedPercent"
        for dimension in alarm["Properties"]["Dimensions"]
        if dimension["Name"] == "scope"
    }
    assert watched == scopes


def test_outputs_name_the_api_functions_and_queues(synth: Synth) -> None:
    assert {
        "ApiUrl",
        "IngestFunctionName",
        "WorkerFunctionName",
        "DlqRedriveFunctionName",
        "QueueUrl",
        "DlqUrl",
        "TableName",
    } <= set(synth.raw["Outputs"])
    # What `hookwise console --stack` reads its table and queues from.
    assert set(STACK_SETTINGS) <= set(synth.raw["Outputs"])


def test_every_nag_acknowledgment_carries_a_reason(synth: Synth) -> None:
    # The synth itself fails on any unacknowledged AwsSolutions finding (see conftest).
    acknowledged = [
        rule
        for resource in synth.raw["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert acknowledged
    assert all(len(rule.get("reason", "")) > 20 for rule in acknowledged), acknowledged


def test_cfn_lint_finds_no_errors(synth: Synth) -> None:
    template = next(synth.outdir.glob("*.template.json"))
    # W3005: CDK adds explicit DependsOn next to GetAtt on function roles; harmless.
    answer = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--ignore-checks",
            "W3005",
            "--",
            str(template),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr


def test_layers_hold_the_package_config_and_arm64_dependencies(synth: Synth) -> None:
    assert len(synth.resources("AWS::Lambda::LayerVersion")) == 2
    staged = [p for p in synth.outdir.glob("asset.*") if (p / "python").is_dir()]
    assert len(staged) == 2
    shared = next(p for p in staged if (p / "hookwise.yaml").exists())
    deps = next(p for p in staged if p != shared)
    assert (shared / "python" / "hookwise" / "ingest" / "service.py").exists()
    # Development-only subpackages (cli, console, local, samples) stay out of the layer.
    assert {p.name for p in (shared / "python" / "hookwise").iterdir()} == {
        "__init__.py",
        "py.typed",
        "actions",
        "adapters",
        "batches",
        "config",
        "context",
        "deliveries",
        "domain",
        "governor",
        "ingest",
        "llm",
        "observability.py",
        "providers",
        "redrive",
        "resources.py",
        "settings.py",
        "sources.py",
        "verifiers",
        "wiring.py",
        "worker",
    }
    cores = list((deps / "python" / "pydantic_core").glob("*.so"))
    assert cores
    assert all("aarch64" in core.name for core in cores)
    assert not (deps / "python" / "botocore").exists()
    assert (deps / "python" / "anthropic").is_dir()
