"""What wakes on-call, each alarm to one SNS topic (subscriptions from context)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

ONE_MINUTE = cdk.Duration.minutes(1)
FIVE_MINUTES = cdk.Duration.minutes(5)
# Rejections per five minutes worth waking someone: a provider whose secret was rotated on one
# side only is rejected on every delivery, and a forger sends many.
REJECTIONS_THRESHOLD = 25


# Budgets alarm when this much of a day's cap is spent.
BUDGET_ALARM_PERCENT = 80


def hookwise_metric(name: str, statistic: str = "Sum", **dimensions: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="Hookwise",
        metric_name=name,
        dimensions_map={"service": "hookwise", **dimensions},
        statistic=statistic,
        period=ONE_MINUTE,
    )


# Ingest counts each rejected request as `Rejected` with dimensions `reason` and `service`.
# Every reason, including reasons added later: a Metrics Insights query, which an alarm can
# watch (an alarm cannot watch a SEARCH expression).
REJECTED_TOTAL = 'SELECT SUM(Rejected) FROM SCHEMA("Hookwise", reason, service)'
# One line per reason, for graphs.
REJECTED_BY_REASON = "SEARCH('{Hookwise,reason,service} MetricName=\"Rejected\"', 'Sum', 60)"


# The batch poller counts, per route, open batches older than the route's maximum wait.
OVERDUE_BATCHES = 'SELECT MAX(OverdueBatches) FROM SCHEMA("Hookwise", route, service)'


def rejected(expression: str, period: cdk.Duration) -> cloudwatch.MathExpression:
    return cloudwatch.MathExpression(expression=expression, label="Rejected", period=period)


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.HttpApi,
        ingest: lambda_.Function,
        worker: lambda_.Function,
        queue: sqs.Queue,
        dlq: sqs.Queue,
        emails: list[str],
        budget_scopes: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="hookwise alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        action = actions.SnsAction(self.topic)
        definitions: dict[str, tuple[cloudwatch.IMetric, float, str]] = {
            "DlqNotEmpty": (
                dlq.metric_approximate_number_of_messages_visible(
                    period=ONE_MINUTE, statistic="Maximum"
                ),
                1,
                "Events failed and are parked in the DLQ: see docs/runbook.md",
            ),
            "OldestMessageAge": (
                queue.metric_approximate_age_of_oldest_message(
                    period=ONE_MINUTE, statistic="Maximum"
                ),
                600,
                "The oldest queued event has waited over 10 minutes",
            ),
            "Ingest5xx": (
                api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
                5,
                "The webhook endpoint answered 5xx: providers are retrying",
            ),
            "IngestErrors": (
                ingest.metric_errors(period=FIVE_MINUTES),
                1,
                "The ingest function raised",
            ),
            "WorkerErrors": (
                worker.metric_errors(period=FIVE_MINUTES),
                1,
                "The worker function raised (whole batches returned)",
            ),
            "IngestThrottles": (
                ingest.metric_throttles(period=FIVE_MINUTES),
                1,
                "The ingest function was throttled",
            ),
            "WorkerThrottles": (
                worker.metric_throttles(period=FIVE_MINUTES),
                1,
                "The worker function was throttled",
            ),
            "Rejections": (
                rejected(REJECTED_TOTAL, FIVE_MINUTES),
                REJECTIONS_THRESHOLD,
                "Many webhooks rejected (bad signatures, stale timestamps, malformed bodies): "
                "a forged flood or a secret out of step with its provider; see docs/runbook.md",
            ),
            "BatchesOverdue": (
                cloudwatch.MathExpression(
                    expression=OVERDUE_BATCHES, label="OverdueBatches", period=FIVE_MINUTES
                ),
                1,
                "A Message Batch is older than its route's maximum wait: see docs/runbook.md "
                "(a stuck batch)",
            ),
            "StuckInReceived": (
                hookwise_metric("StuckEvents", "Maximum"),
                1,
                "Events stored but never enqueued: the sweeper is re-enqueueing",
            ),
        }
        for budget in budget_scopes:
            definitions[f"Budget-{budget.replace(':', '-')}"] = (
                hookwise_metric("BudgetUsedPercent", "Maximum", scope=budget),
                BUDGET_ALARM_PERCENT,
                f"{BUDGET_ALARM_PERCENT} % of the daily budget of {budget} is spent",
            )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, (metric, threshold, description) in definitions.items():
            alarm = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            alarm.add_alarm_action(action)
            self.alarms[name] = alarm
