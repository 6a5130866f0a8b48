"""The batch path in the template: its table, the collector and poller (arm64, one at a time,
every minute; their grants are in test_grants.py) and the alarm on overdue batches."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from hookwise.resources import (
    BATCH_COLLECTOR_FUNCTION,
    BATCH_POLLER_FUNCTION,
    BATCH_TABLE_PARTITION_KEY,
    BATCH_TABLE_SORT_KEY,
    BATCH_TABLE_TTL_ATTRIBUTE,
)
from infra.alarms import OVERDUE_BATCHES
from tests.infra.conftest import Synth
from tests.infra.test_stack import function_named

SPECS = {"BatchCollector": BATCH_COLLECTOR_FUNCTION, "BatchPoller": BATCH_POLLER_FUNCTION}


def test_the_batch_table_is_keyed_by_route_and_sort_key(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": BATCH_TABLE_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": BATCH_TABLE_SORT_KEY, "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": Match.any_value(),
        },
    )


def test_the_batch_table_expires_items_by_their_ttl_attribute(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": BATCH_TABLE_PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": BATCH_TABLE_SORT_KEY, "KeyType": "RANGE"},
            ],
            "TimeToLiveSpecification": {
                "AttributeName": BATCH_TABLE_TTL_ATTRIBUTE,
                "Enabled": True,
            },
        },
    )


@pytest.mark.parametrize("prefix", sorted(SPECS))
def test_batch_functions_run_one_at_a_time_every_minute_on_arm64(synth: Synth, prefix: str) -> None:
    name, function = function_named(synth, f"{prefix}Function")
    props: dict[str, Any] = function["Properties"]
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == SPECS[prefix].memory_mb
    assert props["Timeout"] == SPECS[prefix].timeout_seconds
    assert props["ReservedConcurrentExecutions"] == 1
    env = props["Environment"]["Variables"]
    assert {"HOOKWISE_BATCH_TABLE", "HOOKWISE_TABLE", "HOOKWISE_ANTHROPIC_SECRET"} <= set(env)
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [Match.object_like({"Arn": {"Fn::GetAtt": [name, "Arn"]}})],
        },
    )


def test_overdue_batches_alarm_over_every_route(synth: Synth) -> None:
    alarms = [
        alarm
        for name, alarm in synth.resources("AWS::CloudWatch::Alarm").items()
        if name.startswith("AlarmsBatchesOverdue")
    ]
    assert len(alarms) == 1
    props = alarms[0]["Properties"]
    assert props["Threshold"] == 1
    assert props["Metrics"][0]["Expression"] == OVERDUE_BATCHES
    assert props["AlarmActions"]
    assert "runbook" in props["AlarmDescription"]
