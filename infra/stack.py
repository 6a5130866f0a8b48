"""The hookwise stack: wires the constructs together and grants each function what it needs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from hookwise.config import load_config
from hookwise.resources import (
    BATCH_COLLECTOR_FUNCTION,
    BATCH_POLLER_FUNCTION,
    BATCH_SCHEDULE_MINUTES,
    DLQ_REDRIVE_FUNCTION,
    INGEST_FUNCTION,
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


class HookwiseStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        config = load_config(str(CONFIG))
        table = EventsTable(self, "Events").table
        batch_table = BatchTable(self, "Batches").table
        queues = EventQueues(self, "Queues")
        bucket = PayloadBucket(self, "Payloads").bucket
        bus = events.EventBus(self, "Bus", event_bus_name=BUS_NAME)
        secrets = SourceSecrets(self, "Secrets", config=config, prefix=SECRETS_PREFIX)
        layers = HookwiseLayers(self, "Layers")
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
        for batch_function in (collector, poller):
            table.grant_read_write_data(batch_function)
            batch_table.grant_read_write_data(batch_function)
            # Fallback to real time (and, for the poller, callback retries) go via the queue.
            queues.queue.grant_send_messages(batch_function)
            bucket.grant_read(batch_function)
            secrets.anthropic_key.grant_read(batch_function)
        bus.grant_put_events_to(poller)
        for name, target in {"CollectBatches": collector, "PollBatches": poller}.items():
            events.Rule(
                self,
                name,
                schedule=events.Schedule.rate(cdk.Duration.minutes(BATCH_SCHEDULE_MINUTES)),
                targets=[targets.LambdaFunction(target)],
            )

        table.grant_read_write_data(ingest)
        queues.queue.grant_send_messages(ingest)
        bucket.grant_put(ingest)
        for secret in secrets.by_source.values():
            secret.grant_read(ingest)

        table.grant_read_write_data(worker)
        queues.queue.grant_consume_messages(worker)
        queues.dlq.grant_send_messages(worker)
        bucket.grant_read(worker)
        bus.grant_put_events_to(worker)
        secrets.anthropic_key.grant_read(worker)
        # Provider credentials for actions and context fetchers, created by the operator (a
        # GitHub App's key, a fine-grained token, a Slack bot token): read access only.
        for name in PROVIDER_SECRETS:
            secretsmanager.Secret.from_secret_name_v2(
                self, f"ProviderSecret-{name}", f"{SECRETS_PREFIX}{name}"
            ).grant_read(worker)
        worker.add_to_role_policy(
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[
                    f"arn:{self.partition}:bedrock:*::foundation-model/anthropic.*",
                    f"arn:{self.partition}:bedrock:*:{self.account}:inference-profile/*",
                ],
            )
        )
        worker.add_event_source(
            sources.SqsEventSource(
                queues.queue,
                batch_size=QUEUES.batch_size,
                max_batching_window=cdk.Duration.seconds(QUEUES.max_batching_window_seconds),
                report_batch_item_failures=True,
                max_concurrency=QUEUES.max_concurrency,
            )
        )

        table.grant_read_write_data(redrive)
        queues.dlq.grant_consume_messages(redrive)
        queues.queue.grant_send_messages(redrive)

        table.grant_read_write_data(sweeper)
        queues.queue.grant_send_messages(sweeper)
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
        self._acknowledge(table, bucket, batch_table)

    def _arn_token(self, resource: Construct) -> str:
        """How cdk-nag names a resource's ARN in a finding: `<LogicalId.Arn>`."""
        cfn = resource.node.default_child
        assert isinstance(cfn, cdk.CfnElement)
        return f"<{self.resolve(self.get_logical_id(cfn))}.Arn>"

    def _acknowledge(self, table: Construct, bucket: Construct, batch_table: Construct) -> None:
        acknowledge(
            self,
            "X-Ray's PutTraceSegments and PutTelemetryRecords only take '*'.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        acknowledge(
            self,
            (
                "grant_read_write_data covers the table's indexes; the sweeper queries the sparse "
                "by-pending index."
            ),
            f"AwsSolutions-IAM5[Resource::{self._arn_token(table)}/index/*]",
        )
        acknowledge(
            self,
            "grant_read_write_data names the batch table's indexes too; it has none.",
            f"AwsSolutions-IAM5[Resource::{self._arn_token(batch_table)}/index/*]",
        )
        acknowledge(
            self,
            (
                "Claim-check bodies are one object per event, keyed by event id: the grants "
                "(grant_put for ingest, grant_read for the worker) cover the bucket's objects."
            ),
            f"AwsSolutions-IAM5[Resource::{self._arn_token(bucket)}/*]",
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
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
