"""The hookwise stack: wires the constructs together and grants each function what it needs."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hookwise.config import load_config
from hookwise.deliveries.callback import callback_secret_name
from hookwise.resources import (
    BATCH_COLLECTOR_FUNCTION,
    BATCH_POLLER_FUNCTION,
    BATCH_SCHEDULE_MINUTES,
    DLQ_REDRIVE_FUNCTION,
    INGEST_FUNCTION,
    PAYLOAD_KEY_PREFIX,
    QUEUES,
    SWEEPER_FUNCTION,
    WORKER_FUNCTION,
)
from infra.alarms import Alarms
from infra.batch_table import BatchTable
from infra.dashboard import Dashboard
from infra.event_queues import VISIBILITY, EventQueues
from infra.events_table import EventsTable
from infra.function import HookwiseFunction
from infra.layers import HookwiseLayers
from infra.limits import FloodLimits
from infra.nag import acknowledge
from infra.paths import CONFIG
from infra.payload_bucket import PayloadBucket
from infra.source_secrets import SourceSecrets
from infra.webhook_api import WebhookApi

SECRETS_PREFIX = "hookwise/"
# The names the worker's settings default to (HOOKWISE_GITHUB_APP_CREDENTIALS, ...).
PROVIDER_SECRETS = ("github-app", "github-token", "slack-bot-token")
BUS_NAME = "hookwise"

# The DynamoDB actions each function's code calls (hookwise/adapters): a new call is a new
# grant here, and tests/infra lists them.
# Ingest: the conditional put, the duplicate path's state read, GET /events/{id} and /events.
INGEST_TABLE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Scan",
)
# The worker (claims and transitions, governor, budgets, subject memory and lock, context
# cache), and the batch functions running its steps.
WORKER_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The sweeper: the by-pending index, its checkpoint, the dispatch lease.
SWEEPER_TABLE_ACTIONS = (
    "dynamodb:Query",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# On-call redrive and replay: read events, move them back to `received`.
REDRIVE_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem")
# The collector and poller on the batch ledger (parked entries and intents).
BATCH_LEDGER_ACTIONS = (
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)


class HookwiseStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        # `-c config=PATH` deploys another hookwise.yaml (the local stack's, in development).
        config_path = Path(self.node.try_get_context("config") or CONFIG)
        config = load_config(str(config_path))
        table = EventsTable(self, "Events").table
        batch_table = BatchTable(self, "Batches").table
        queues = EventQueues(self, "Queues")
        bucket = PayloadBucket(self, "Payloads").bucket
        bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
        secrets = SourceSecrets(self, "Secrets", config=config, prefix=SECRETS_PREFIX)
        layers = HookwiseLayers(self, "Layers", config=config_path)
        limits = FloodLimits.from_context(self.node)

        common = {
            "HOOKWISE_TABLE": table.table_name,
            "HOOKWISE_QUEUE_URL": queues.queue.queue_url,
            "HOOKWISE_DLQ_URL": queues.dlq.queue_url,
            "HOOKWISE_SECRETS_PREFIX": SECRETS_PREFIX,
            "HOOKWISE_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "HOOKWISE_MAX_RECEIVE_COUNT": str(QUEUES.max_receive_count),
        }

        def function(
            name: str,
            folder: str,
            spec: object,
            description: str,
            reserved_concurrency: int | None = None,
            **extra: str,
        ) -> HookwiseFunction:
            return HookwiseFunction(
                self,
                name,
                folder=folder,
                spec=spec,  # type: ignore[arg-type]
                layers=layers,
                environment={**common, **extra},
                description=description,
                reserved_concurrency=reserved_concurrency,
            )

        ingest = function(
            "Ingest",
            "ingest",
            INGEST_FUNCTION,
            "Verify, store and enqueue webhooks; serve events",
            # A ceiling on what a flood at the door can take from the account (infra/limits.py).
            reserved_concurrency=limits.ingest_concurrency,
            HOOKWISE_BUCKET=bucket.bucket_name,
        ).function
        worker = function(
            "Worker",
            "worker",
            WORKER_FUNCTION,
            "Route events to Claude, validate, store, deliver",
            # `mode: batch` routes park their events in the batch ledger.
            HOOKWISE_BATCH_TABLE=batch_table.table_name,
            HOOKWISE_BUCKET=bucket.bucket_name,
            HOOKWISE_EVENT_BUS=bus.event_bus_name,
            HOOKWISE_ANTHROPIC_SECRET=secrets.anthropic_key.secret_name,
        ).function
        redrive = function(
            "DlqRedrive",
            "dlq_redrive",
            DLQ_REDRIVE_FUNCTION,
            "On-call: inspect and redrive the DLQ, replay events",
        ).function
        sweeper = function(
            "Sweeper", "sweeper", SWEEPER_FUNCTION, "Re-enqueue events stuck in received"
        ).function

        # `mode: batch` routes: one collector and one poller run at a time (hookwise/batches).
        batch_env = {
            "HOOKWISE_BATCH_TABLE": batch_table.table_name,
            "HOOKWISE_BUCKET": bucket.bucket_name,
            "HOOKWISE_EVENT_BUS": bus.event_bus_name,
            "HOOKWISE_ANTHROPIC_SECRET": secrets.anthropic_key.secret_name,
        }
        collector = function(
            "BatchCollector",
            "batch_collector",
            BATCH_COLLECTOR_FUNCTION,
            "Gather batch routes' parked events into Message Batches",
            reserved_concurrency=1,
            **batch_env,
        ).function
        poller = function(
            "BatchPoller",
            "batch_poller",
            BATCH_POLLER_FUNCTION,
            "Complete the events of ended Message Batches",
            reserved_concurrency=1,
            **batch_env,
        ).function
        for name, target in {"CollectBatches": collector, "PollBatches": poller}.items():
            events.Rule(
                self,
                name,
                schedule=events.Schedule.rate(cdk.Duration.minutes(BATCH_SCHEDULE_MINUTES)),
                targets=[targets.LambdaFunction(target)],
            )

        # Each function gets the actions its code calls, on the resources it calls them on.
        table.grant(ingest, *INGEST_TABLE_ACTIONS)
        queues.queue.grant(ingest, "sqs:SendMessage")
        iam.Grant.add_to_principal(
            grantee=ingest,
            actions=["s3:PutObject"],
            resource_arns=[bucket.arn_for_objects(f"{PAYLOAD_KEY_PREFIX}*")],
        )
        for secret in secrets.by_source.values():
            secret.grant_read(ingest)

        # The worker, and the batch functions that run its steps (prompts, completion, actions).
        acting = (worker, collector, poller)
        for acting_function in acting:
            table.grant(acting_function, *WORKER_TABLE_ACTIONS)
            # Deferrals and retries are new messages; fallbacks to real time too.
            queues.queue.grant(acting_function, "sqs:SendMessage")
            iam.Grant.add_to_principal(
                grantee=acting_function,
                actions=["s3:GetObject"],
                resource_arns=[bucket.arn_for_objects(f"{PAYLOAD_KEY_PREFIX}*")],
            )
            secrets.anthropic_key.grant_read(acting_function)
        # Parking (the worker) writes entries; the collector and poller work the ledger.
        batch_table.grant(worker, "dynamodb:PutItem")
        for batch_function in (collector, poller):
            batch_table.grant(batch_function, *BATCH_LEDGER_ACTIONS)
        queues.dlq.grant(worker, "sqs:SendMessage")
        for publisher in (worker, poller):
            bus.grant_put_events_to(publisher)
        # Provider credentials for actions and context fetchers, created by the operator (a
        # GitHub App's key, a fine-grained token, a Slack bot token), and each `http` route's
        # signing secret: read access only, for the functions that run actions.
        action_secrets = [f"{SECRETS_PREFIX}{name}" for name in PROVIDER_SECRETS] + [
            callback_secret_name(route.name, route.http_action)
            for route in config.routes
            if route.http_action is not None
        ]
        for secret_name in action_secrets:
            action_secret = secretsmanager.Secret.from_secret_name_v2(
                self, f"ActionSecret-{secret_name}", secret_name
            )
            action_secret.grant_read(worker)
            action_secret.grant_read(poller)
        worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[
                    f"arn:{self.partition}:bedrock:*::foundation-model/anthropic.*",
                    f"arn:{self.partition}:bedrock:*:{self.account}:inference-profile/*",
                ],
            )
        )
        # The mapping grants the worker what it polls with (grant_consume_messages).
        worker.add_event_source(
            sources.SqsEventSource(
                queues.queue,
                batch_size=QUEUES.batch_size,
                max_batching_window=cdk.Duration.seconds(QUEUES.max_batching_window_seconds),
                report_batch_item_failures=True,
                max_concurrency=QUEUES.max_concurrency,
            )
        )

        table.grant(redrive, *REDRIVE_TABLE_ACTIONS)
        queues.dlq.grant(
            redrive, "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"
        )
        queues.queue.grant(redrive, "sqs:SendMessage")

        table.grant(sweeper, *SWEEPER_TABLE_ACTIONS)
        queues.queue.grant(sweeper, "sqs:SendMessage")
        events.Rule(
            self,
            "SweepEveryMinute",
            schedule=events.Schedule.rate(cdk.Duration.minutes(1)),
            targets=[targets.LambdaFunction(sweeper)],
        )

        api = WebhookApi(self, "Http", ingest=ingest, limits=limits).api
        alarms = Alarms(
            self,
            "Alarms",
            api=api,
            ingest=ingest,
            worker=worker,
            queue=queues.queue,
            dlq=queues.dlq,
            emails=[e for e in str(self.node.try_get_context("alarm_email") or "").split(",") if e],
            budget_scopes=list(config.budgets()),
        )
        Dashboard(self, "Dashboard", api=api, queue=queues.queue, dlq=queues.dlq)

        for name, value in {
            "ApiUrl": api.api_endpoint,
            "IngestFunctionName": ingest.function_name,
            "WorkerFunctionName": worker.function_name,
            "DlqRedriveFunctionName": redrive.function_name,
            "QueueUrl": queues.queue.queue_url,
            "DlqUrl": queues.dlq.queue_url,
            "TableName": table.table_name,
            "BatchTableName": batch_table.table_name,
            "EventBusName": bus.event_bus_name,
            "AlarmTopicArn": alarms.topic.topic_arn,
        }.items():
            cdk.CfnOutput(self, name, value=value)
        self._acknowledge(table, bucket)

    def _arn_token(self, resource: Construct) -> str:
        """How cdk-nag names a resource's ARN in a finding: `<LogicalId.Arn>`."""
        cfn = resource.node.default_child
        assert isinstance(cfn, cdk.CfnElement)
        return f"<{self.resolve(self.get_logical_id(cfn))}.Arn>"

    def _acknowledge(self, table: Construct, bucket: Construct) -> None:
        acknowledge(
            self,
            "X-Ray's PutTraceSegments and PutTelemetryRecords only take '*'.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self,
            (
                "Table grants cover the table's indexes; the sweeper queries the sparse "
                "by-pending index."
            ),
            f"AwsSolutions-IAM5[Resource::{self._arn_token(table)}/index/*]",
        )
        acknowledge(
            self,
            (
                "Claim-check bodies are one object per event, keyed by source and event id: "
                "ingest may put and the worker get the objects under the bodies prefix."
            ),
            f"AwsSolutions-IAM5[Resource::{self._arn_token(bucket)}/{PAYLOAD_KEY_PREFIX}*]",
        )
        acknowledge(
            self,
            (
                "Bedrock model ids and inference profiles are configuration (hookwise.yaml), so "
                "the worker may invoke Anthropic models and this account's inference profiles."
            ),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/"
            "anthropic.*]",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*:<AWS::AccountId>:"
            "inference-profile/*]",
        )
        acknowledge(
            self,
            "AWSLambdaBasicExecutionRole only lets a function write its own logs.",
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
        )
        acknowledge(
            self,
            (
                "POST /webhooks/{source} is called by third-party providers that cannot sign with "
                "IAM: every request is authenticated by its provider signature instead. The "
                "/events routes use IAM authorization."
            ),
            "AwsSolutions-APIG4",
        )
        acknowledge(
            self,
            "This queue is the dead-letter queue; it needs no DLQ of its own.",
            "AwsSolutions-SQS3",
        )
