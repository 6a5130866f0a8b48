"""The events table: per event, an item written once (the idempotency record and the body) and a
small state item for every transition (hookwise/adapters/store/dynamodb.py)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from hookwise.resources import (
    STATUS_INDEX,
    STATUS_INDEX_INCLUDES,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    STUCK_INDEX,
    STUCK_INDEX_PARTITION_KEY,
    STUCK_INDEX_SORT_KEY,
    TABLE_PARTITION_KEY,
    TABLE_TTL_ATTRIBUTE,
)


def string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def durable_table(scope: Construct, **keys: Any) -> dynamodb.Table:
    """On demand, encrypted, point-in-time recoverable and kept on stack deletion: what every
    hookwise table holds (events, and batch intents for submitted, paid-for batches)."""
    return dynamodb.Table(
        scope,
        "Table",
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        **keys,
    )


class EventsTable(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = durable_table(
            self,
            partition_key=string_key(TABLE_PARTITION_KEY),
            time_to_live_attribute=TABLE_TTL_ATTRIBUTE,
        )
        # Every event item carries the key (the item is written once, never updated): the
        # sweeper reads events by arrival time from its checkpoint, keys only, one index write
        # per event.
        self.table.add_global_secondary_index(
            index_name=STUCK_INDEX,
            partition_key=string_key(STUCK_INDEX_PARTITION_KEY),
            sort_key=string_key(STUCK_INDEX_SORT_KEY),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Over state items, by status and arrival (the console's filters, and on-call's "what
        # failed this week" without a scan). Its keys are attributes every transition writes
        # anyway: an index write for each status an event enters, and one for each it leaves
        # (delete and put), about 3 write units per event (processing, completed), 2 more per
        # deferral; an update that leaves the status (and the included attributes) alone,
        # such as recording an action, writes nothing to it.
        self.table.add_global_secondary_index(
            index_name=STATUS_INDEX,
            partition_key=string_key(STATUS_INDEX_PARTITION_KEY),
            sort_key=string_key(STATUS_INDEX_SORT_KEY),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(STATUS_INDEX_INCLUDES),
        )
